// The access predictor and its evaluations: option structs, result structs, and the calls,
// each of which releases the GIL around pure C++ work.
#include <pybind11/stl.h>

#include "bind_registry.hpp"
#include "predict/access_predictor.hpp"
#include "predict/live_predictor.hpp"
#include "predict/refresh_eval.hpp"
#include "predict/ttl_eval.hpp"
#include "predict/warm_eval.hpp"
#include "py_store.hpp"

namespace py = pybind11;

namespace stratacache::bindings {
namespace {

using namespace predict;

void bind_options(py::module_& m) {
  py::class_<WorkloadOptions>(m, "WorkloadOptions")
      .def(py::init<>())
      .def_readwrite("kind", &WorkloadOptions::kind)
      .def_readwrite("keys", &WorkloadOptions::keys)
      .def_readwrite("duration", &WorkloadOptions::duration)
      .def_readwrite("seed", &WorkloadOptions::seed)
      .def_readwrite("rate", &WorkloadOptions::rate)
      .def_readwrite("period_min", &WorkloadOptions::period_min)
      .def_readwrite("period_max", &WorkloadOptions::period_max)
      .def_readwrite("jitter", &WorkloadOptions::jitter)
      .def_readwrite("burst_on", &WorkloadOptions::burst_on)
      .def_readwrite("burst_off", &WorkloadOptions::burst_off)
      .def_readwrite("burst_rate", &WorkloadOptions::burst_rate)
      .def_readwrite("zipf_alpha", &WorkloadOptions::zipf_alpha)
      .def_readwrite("cycle", &WorkloadOptions::cycle)
      .def_readwrite("amplitude", &WorkloadOptions::amplitude)
      .def_readwrite("scan_every", &WorkloadOptions::scan_every)
      .def_readwrite("scan_length", &WorkloadOptions::scan_length)
      .def_readwrite("trace_path", &WorkloadOptions::trace_path)
      .def_readwrite("max_requests", &WorkloadOptions::max_requests)
      .def_readwrite("update_interval", &WorkloadOptions::update_interval)
      .def_readwrite("ns", &WorkloadOptions::ns);
  py::class_<PredictorOptions>(m, "PredictorOptions")
      .def(py::init<>())
      .def_readwrite("horizon", &PredictorOptions::horizon)
      .def_readwrite("sample_rate", &PredictorOptions::sample_rate)
      .def_readwrite("pending_capacity", &PredictorOptions::pending_capacity)
      .def_readwrite("batch_size", &PredictorOptions::batch_size)
      .def_readwrite("seed", &PredictorOptions::seed)
      .def_property(
          "max_keys", [](const PredictorOptions& o) { return o.features.capacity; },
          [](PredictorOptions& o, std::size_t v) { o.features.capacity = v; })
      .def_property(
          "half_life_short", [](const PredictorOptions& o) { return o.features.half_life_short; },
          [](PredictorOptions& o, double v) { o.features.half_life_short = v; })
      .def_property(
          "half_life_long", [](const PredictorOptions& o) { return o.features.half_life_long; },
          [](PredictorOptions& o, double v) { o.features.half_life_long = v; })
      .def_property(
          "learning_rate", [](const PredictorOptions& o) { return o.model.learning_rate; },
          [](PredictorOptions& o, double v) { o.model.learning_rate = v; })
      .def_property(
          "l2", [](const PredictorOptions& o) { return o.model.l2; },
          [](PredictorOptions& o, double v) { o.model.l2 = v; });
  py::class_<RefreshOptions>(m, "RefreshOptions")
      .def(py::init<>())
      .def_readwrite("ttl", &RefreshOptions::ttl)
      .def_readwrite("margin", &RefreshOptions::margin)
      .def_readwrite("warmup", &RefreshOptions::warmup)
      .def_readwrite("loader_seconds", &RefreshOptions::loader_seconds)
      .def_readwrite("xfetch_betas", &RefreshOptions::xfetch_betas)
      .def_readwrite("windows", &RefreshOptions::windows)
      .def_readwrite("thresholds", &RefreshOptions::thresholds)
      .def_readwrite("oracle", &RefreshOptions::oracle)
      .def_readwrite("predictor", &RefreshOptions::predictor)
      .def_readwrite("seed", &RefreshOptions::seed);
  py::class_<WarmOptions>(m, "WarmOptions")
      .def(py::init<>())
      .def_readwrite("restart_at", &WarmOptions::restart_at)
      .def_readwrite("warm_keys", &WarmOptions::warm_keys)
      .def_readwrite("capacity", &WarmOptions::capacity)
      .def_readwrite("measure_reads", &WarmOptions::measure_reads)
      .def_readwrite("window_reads", &WarmOptions::window_reads)
      .def_readwrite("predictor", &WarmOptions::predictor);
}

void bind_results(py::module_& m) {
  py::class_<RefreshPoint>(m, "RefreshPoint")
      .def_readonly("method", &RefreshPoint::method)
      .def_readonly("parameter", &RefreshPoint::parameter)
      .def_readonly("gets", &RefreshPoint::gets)
      .def_readonly("misses", &RefreshPoint::misses)
      .def_readonly("refreshes", &RefreshPoint::refreshes)
      .def_property_readonly("loader_calls", &RefreshPoint::loader_calls);
  py::class_<WarmResult>(m, "WarmResult")
      .def_readonly("method", &WarmResult::method)
      .def_readonly("preloaded", &WarmResult::preloaded)
      .def_readonly("hits", &WarmResult::hits)
      .def_readonly("reads", &WarmResult::reads)
      .def_property_readonly("hit_ratio", &WarmResult::hit_ratio);
  py::class_<TtlOutcome>(m, "TtlOutcome")
      .def_readonly("ttl", &TtlOutcome::ttl)
      .def_readonly("hit_ratio", &TtlOutcome::hit_ratio)
      .def_readonly("stale_fraction", &TtlOutcome::stale_fraction)
      .def_readonly("reads", &TtlOutcome::reads);
  py::class_<TtlRecommendation>(m, "TtlRecommendation")
      .def_readonly("ttl", &TtlRecommendation::ttl)
      .def_readonly("predicted_hit_ratio", &TtlRecommendation::predicted_hit_ratio)
      .def_readonly("predicted_stale_fraction", &TtlRecommendation::predicted_stale_fraction)
      .def_readonly("keys", &TtlRecommendation::keys);
  py::class_<TtlReport>(m, "TtlReport")
      .def_readonly("ns", &TtlReport::ns)
      .def_readonly("recommendation", &TtlReport::recommendation)
      .def_readonly("at_recommended", &TtlReport::at_recommended)
      .def_readonly("best", &TtlReport::best)
      .def_readonly("heuristic", &TtlReport::heuristic)
      .def_readonly("grid", &TtlReport::grid);
}

void bind_predictor(py::module_& m) {
  py::class_<AccessPredictor>(m, "AccessPredictor")
      .def(py::init<const PredictorOptions&>(), py::arg("options"))
      .def(
          "record_batch",
          [](AccessPredictor& p, const std::vector<std::int64_t>& keys,
             const std::vector<double>& times, const std::vector<bool>& writes) {
            // Feature updates and batch training in C++ over copied vectors; no Python object.
            py::gil_scoped_release unlocked;
            p.record_batch(keys, times, writes);
          },
          py::arg("keys"), py::arg("times"), py::arg("writes"))
      .def(
          "probabilities",
          [](const AccessPredictor& p, const std::vector<std::int64_t>& keys, double now) {
            // One Eigen matrix product over copied keys; no Python object is touched.
            py::gil_scoped_release unlocked;
            const Eigen::VectorXd v = p.probabilities(keys, now);
            return std::vector<double>(v.data(), v.data() + v.size());
          },
          py::arg("keys"), py::arg("now"))
      .def(
          "top_keys",
          [](const AccessPredictor& p, std::size_t n, double now) {
            // Scores every tracked key in C++; no Python object is touched.
            py::gil_scoped_release unlocked;
            return p.top_keys(n, now);
          },
          py::arg("n"), py::arg("now"))
      .def("expected_next_read", &AccessPredictor::expected_next_read, py::arg("key"),
           py::arg("now"))
      .def_property_readonly("tracked", [](const AccessPredictor& p) { return p.table().size(); })
      .def_property_readonly("bytes_per_key",
                             [](const AccessPredictor& p) { return p.table().bytes_per_key(); })
      .def_property_readonly("trained", [](const AccessPredictor& p) { return p.stats().trained; })
      .def_property_readonly("dropped", [](const AccessPredictor& p) { return p.stats().dropped; })
      .def_property_readonly("observed",
                             [](const AccessPredictor& p) { return p.stats().observed; });
}

std::unique_ptr<LivePredictor> live_predictor_shim(const PredictorOptions& options,
                                                   const StoreHandle& store) {
  if (!store.recorder) {
    throw Error(ErrorCode::kInvalidConfig, "predictor: the store records no accesses");
  }
  return std::make_unique<LivePredictor>(options, *store.recorder, SteadyClock::instance());
}

// Calls `rank(ns)` with the GIL released, then gives (key body, prefix, value) tuples of the
// ranked keys (HotKey: its probability, RecentKey: its age), for hot_keys and recent_keys.
template <class Rank, class Value>
std::vector<py::tuple> ranked_keys(const std::optional<std::string>& prefix, Rank rank,
                                   Value value) {
  decltype(rank(std::optional<std::uint32_t>{})) keys;
  {
    // Scoring or sorting the tracked keys in C++ under the predictor's own lock only.
    py::gil_scoped_release unlocked;
    std::optional<std::uint32_t> ns;
    if (prefix) ns = store::namespace_hash(*prefix);
    keys = rank(ns);
  }
  std::vector<py::tuple> out;
  out.reserve(keys.size());
  for (const auto& k : keys) {
    out.push_back(py::make_tuple(py::str(k.name.substr(k.prefix_size)),
                                 py::str(k.name.substr(0, k.prefix_size)), value(k)));
  }
  return out;
}

std::vector<py::tuple> hot_keys_shim(LivePredictor& p, std::size_t n,
                                     const std::optional<std::string>& prefix) {
  return ranked_keys(
      prefix, [&](std::optional<std::uint32_t> ns) { return p.hot_keys(n, ns); },
      [](const HotKey& k) { return k.probability; });
}

std::vector<py::tuple> recent_keys_shim(LivePredictor& p, std::size_t n,
                                        const std::optional<std::string>& prefix) {
  return ranked_keys(
      prefix, [&](std::optional<std::uint32_t> ns) { return p.recent_keys(n, ns); },
      [](const RecentKey& k) { return k.age; });
}

py::dict live_stats_shim(LivePredictor& p) {
  const LiveStats s = p.stats();
  py::dict d;
  d["fed"] = s.fed;
  d["lost"] = s.lost;
  d["tracked"] = s.tracked;
  d["names"] = s.names;
  d["trained"] = s.trained;
  d["observed"] = s.observed;
  d["model_bytes_per_key"] = s.model_bytes_per_key;
  d["name_bytes_per_key"] = s.name_bytes_per_key;
  return d;
}

// Three parallel lists (times, keys, is_write), for replays driven from Python.
py::tuple workload_events_shim(const TimedWorkload& w) {
  std::vector<double> times;
  std::vector<std::int64_t> keys;
  std::vector<bool> writes;
  times.reserve(w.events.size());
  keys.reserve(w.events.size());
  writes.reserve(w.events.size());
  for (const Event& e : w.events) {
    times.push_back(e.time);
    keys.push_back(e.key);
    writes.push_back(e.op != Op::kGet);
  }
  return py::make_tuple(times, keys, writes);
}

void bind_live(py::module_& m) {
  py::class_<LivePredictor>(m, "LivePredictor")
      .def(py::init(&live_predictor_shim), py::arg("options"), py::arg("store"),
           py::keep_alive<1, 3>())
      .def("drain",
           [](LivePredictor& p) {
             // Copies ring slots and trains in C++; the store is not touched, only its recorder.
             py::gil_scoped_release unlocked;
             return p.drain();
           })
      .def("hot_keys", &hot_keys_shim, py::arg("n"), py::arg("prefix"))
      .def("recent_keys", &recent_keys_shim, py::arg("n"), py::arg("prefix"))
      .def("stats", &live_stats_shim)
      .def_property_readonly("horizon", &LivePredictor::horizon);
}

}  // namespace

void bind_predict(py::module_& m) {
  bind_options(m);
  bind_results(m);
  bind_predictor(m);
  bind_live(m);
  py::class_<TimedWorkload>(m, "TimedWorkload")
      .def_property_readonly("size", [](const TimedWorkload& w) { return w.events.size(); })
      .def_readonly("duration", &TimedWorkload::duration)
      .def_readonly("keys", &TimedWorkload::keys)
      .def("events", &workload_events_shim);
  m.def("workload_kinds", &workload_kinds);
  m.def(
      "make_workload",
      [](const WorkloadOptions& o) {
        // Generation (or a trace read) in C++; the options were copied in.
        py::gil_scoped_release unlocked;
        return make_workload(o);
      },
      py::arg("options"));
  m.def("merge_workloads", &merge_workloads, py::arg("parts"));
  m.def(
      "evaluate_refresh",
      [](const TimedWorkload& w, const RefreshOptions& o) {
        // Seconds of replay in C++; `w` is kept alive by the caller's reference.
        py::gil_scoped_release unlocked;
        return evaluate_refresh(w, o);
      },
      py::arg("workload"), py::arg("options"));
  m.def(
      "evaluate_warming",
      [](const TimedWorkload& w, const WarmOptions& o) {
        // Replay and training in C++; `w` is kept alive by the caller's reference.
        py::gil_scoped_release unlocked;
        return evaluate_warming(w, o);
      },
      py::arg("workload"), py::arg("options"));
  m.def(
      "recommend_ttl",
      [](const TimedWorkload& w, std::uint16_t ns, double budget) {
        // Feature updates over the workload in C++; `w` is kept alive by the caller.
        py::gil_scoped_release unlocked;
        return recommend_ttl(w, ns, budget);
      },
      py::arg("workload"), py::arg("ns"), py::arg("staleness_budget"));
  m.def(
      "evaluate_ttl",
      [](const TimedWorkload& w, double budget, const std::vector<double>& grid,
         double fit_fraction) {
        // Replays in C++; `w` is kept alive by the caller's reference.
        py::gil_scoped_release unlocked;
        return evaluate_ttl(w, budget, grid, fit_fraction);
      },
      py::arg("workload"), py::arg("staleness_budget"), py::arg("grid"), py::arg("fit_fraction"));
}

}  // namespace stratacache::bindings
