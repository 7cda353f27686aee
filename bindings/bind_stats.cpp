// Store's statistics: counters per namespace and the latency histograms of every tier. The
// Python tiers record their own latencies here (`record_latency`), so one set of histograms
// covers L1, Redis and disk. Reads are lock-free in the engine and keep the GIL (microseconds).
#include <pybind11/stl.h>

#include <string>

#include "common/error.hpp"
#include "py_store.hpp"
#include "stats/latencies.hpp"

namespace stratacache::bindings {
namespace {

py::dict counters_dict(const store::StoreStats& s) {
  py::dict d;
  d["hits"] = s.hits;
  d["misses"] = s.misses;
  d["sets"] = s.sets;
  d["rejected"] = s.rejected;
  d["evicted_size"] = s.evicted_size;
  d["evicted_expired"] = s.evicted_expired;
  d["evicted_explicit"] = s.evicted_explicit;
  d["entries"] = s.entries;
  d["bytes"] = s.bytes;
  return d;
}

// [(prefix or None for the overflow slot, counters)]
py::list namespace_stats_shim(const StoreHandle& h) {
  py::list out;
  for (const store::NamespaceStats& n : h.store->namespace_stats()) {
    out.append(py::make_tuple(n.overflow ? py::object(py::none()) : py::str(n.prefix),
                              counters_dict(n.stats)));
  }
  return out;
}

py::list latencies_shim(const StoreHandle& h, const std::vector<std::uint64_t>& bounds_ns,
                        const std::vector<double>& quantiles) {
  py::list out;
  if (!h.latencies) return out;
  for (const stats::LatencySummary& s : h.latencies->summarize(bounds_ns, quantiles)) {
    out.append(py::make_tuple(stats::kTierNames[static_cast<std::size_t>(s.tier)],
                              stats::kOpNames[static_cast<std::size_t>(s.op)], s.count, s.sum_ns,
                              s.below, s.quantiles));
  }
  return out;
}

void record_latency_shim(const StoreHandle& h, std::string_view tier, std::string_view op,
                         std::uint64_t ns) {
  const auto t = stats::tier_named(tier);
  const auto o = stats::op_named(op);
  if (!t || !o) {
    throw py::value_error("unknown tier or operation: " + std::string(tier) + "/" +
                          std::string(op));
  }
  if (h.latencies) h.latencies->record(*t, *o, ns);
}

}  // namespace

void bind_stats(py::class_<StoreHandle>& cls) {
  cls.def("namespace_stats", &namespace_stats_shim)
      .def("latencies", &latencies_shim, py::arg("bounds_ns"), py::arg("quantiles"))
      .def("record_latency", &record_latency_shim, py::arg("tier"), py::arg("op"), py::arg("ns"))
      .def_property_readonly(
          "timing", [](const StoreHandle& h) { return h.latencies ? h.latencies->rate() : 0.0; });
}

}  // namespace stratacache::bindings
