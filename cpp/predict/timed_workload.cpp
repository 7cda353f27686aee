#include "predict/timed_workload.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_set>

#include "common/error.hpp"
#include "predict/seeded_random.hpp"
#include "predict/trace_reader.hpp"

namespace stratacache::predict {
namespace {

// Generated keys of namespace n live in [n << 40, (n + 1) << 40), so merged parts never collide.
constexpr int kNamespaceShift = 40;
constexpr double kTwoPi = 2.0 * std::numbers::pi;

[[noreturn]] void invalid(const std::string& what) {
  throw Error(ErrorCode::kInvalidConfig, "workload: " + what);
}

void require_positive(double value, const char* name) {
  if (!(value > 0) || !std::isfinite(value)) {
    invalid(std::string(name) + " must be > 0 and finite, got " + std::to_string(value));
  }
}

std::int64_t key_of(const WorkloadOptions& o, std::uint64_t id) {
  return static_cast<std::int64_t>((std::uint64_t{o.ns} << kNamespaceShift) + id);
}

/// Inverse-CDF sampler of Zipf(alpha) ranks over n keys.
class Zipf {
 public:
  Zipf(std::uint64_t n, double alpha) : cdf_(n) {
    double sum = 0;
    for (std::uint64_t r = 0; r < n; ++r) {
      cdf_[r] = sum += 1.0 / std::pow(static_cast<double>(r + 1), alpha);
    }
  }
  std::uint64_t draw(SeededRandom& rng) const {
    const double u = rng.uniform() * cdf_.back();
    const auto at = std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
    return std::min<std::uint64_t>(static_cast<std::uint64_t>(at), cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

void periodic(const WorkloadOptions& o, SeededRandom& rng, std::vector<Event>& out) {
  require_positive(o.period_min, "period_min");
  if (!(o.period_max >= o.period_min)) invalid("period_max must be >= period_min");
  if (!(o.jitter >= 0 && o.jitter < 1)) invalid("jitter must be in [0, 1)");
  for (std::uint64_t k = 0; k < o.keys; ++k) {
    const double period = rng.log_uniform(o.period_min, o.period_max);
    for (double due = rng.uniform() * period; due < o.duration; due += period) {
      const double t = due + o.jitter * period * rng.normal();
      if (t >= 0 && t < o.duration) out.push_back({t, key_of(o, k), Op::kGet, o.ns});
    }
  }
}

void bursty(const WorkloadOptions& o, SeededRandom& rng, std::vector<Event>& out) {
  require_positive(o.burst_on, "burst_on");
  require_positive(o.burst_off, "burst_off");
  require_positive(o.burst_rate, "burst_rate");
  const double p_on = o.burst_on / (o.burst_on + o.burst_off);
  for (std::uint64_t k = 0; k < o.keys; ++k) {
    bool on = rng.uniform() < p_on;
    for (double t = 0; t < o.duration; on = !on) {
      const double end = std::min(o.duration, t + rng.exponential(on ? o.burst_on : o.burst_off));
      if (on) {
        for (double r = t + rng.exponential(1 / o.burst_rate); r < end;
             r += rng.exponential(1 / o.burst_rate)) {
          out.push_back({r, key_of(o, k), Op::kGet, o.ns});
        }
      }
      t = end;
    }
  }
}

void diurnal(const WorkloadOptions& o, SeededRandom& rng, std::vector<Event>& out) {
  require_positive(o.cycle, "cycle");
  if (!(o.amplitude >= 0 && o.amplitude <= 1)) invalid("amplitude must be in [0, 1]");
  const Zipf zipf(o.keys, o.zipf_alpha);
  const double peak = o.rate * (1 + o.amplitude);
  // Thinning: candidates at the peak rate, each kept with its key's relative rate at that time.
  for (double t = rng.exponential(1 / peak); t < o.duration; t += rng.exponential(1 / peak)) {
    const std::uint64_t k = zipf.draw(rng);
    const double phase = kTwoPi * static_cast<double>(k % 4) / 4;
    const double level = 1 + o.amplitude * std::sin(kTwoPi * t / o.cycle + phase);
    if (rng.uniform() * (1 + o.amplitude) < level) out.push_back({t, key_of(o, k), Op::kGet, o.ns});
  }
}

void scan_polluted(const WorkloadOptions& o, SeededRandom& rng, std::vector<Event>& out) {
  require_positive(o.scan_every, "scan_every");
  const Zipf zipf(o.keys, o.zipf_alpha);
  for (double t = rng.exponential(1 / o.rate); t < o.duration; t += rng.exponential(1 / o.rate)) {
    out.push_back({t, key_of(o, zipf.draw(rng)), Op::kGet, o.ns});
  }
  for (double start = o.scan_every; start < o.duration; start += o.scan_every) {
    for (std::uint64_t j = 0; j < o.scan_length; ++j) {
      const double t = start + static_cast<double>(j) / o.rate;
      if (t < o.duration) out.push_back({t, key_of(o, o.keys + j), Op::kGet, o.ns});
    }
  }
}

double from_trace(const WorkloadOptions& o, SeededRandom& rng, std::vector<Event>& out) {
  if (o.trace_path.empty()) invalid("kind 'trace' needs trace_path");
  auto keys = read_trace(o.trace_path);
  if (o.max_requests != 0 && keys.size() > o.max_requests) keys.resize(o.max_requests);
  double t = 0;
  out.reserve(keys.size());
  for (const std::int64_t key : keys) {
    t += rng.exponential(1 / o.rate);
    out.push_back({t, key, Op::kGet, o.ns});
  }
  return t;
}

/// Poisson writes for every key already read, each with its own mean interval.
void add_updates(const WorkloadOptions& o, SeededRandom& rng, std::vector<Event>& out,
                 double duration) {
  std::vector<std::int64_t> keys;
  {
    std::unordered_set<std::int64_t> seen;
    for (const Event& e : out) {
      if (seen.insert(e.key).second) keys.push_back(e.key);
    }
  }
  std::sort(keys.begin(), keys.end());
  for (const std::int64_t key : keys) {
    const double mean = rng.log_uniform(o.update_interval / 2, o.update_interval * 2);
    for (double t = rng.exponential(mean); t < duration; t += rng.exponential(mean)) {
      out.push_back({t, key, Op::kSet, o.ns});
    }
  }
}

std::uint64_t distinct_keys(const std::vector<Event>& events) {
  std::unordered_set<std::int64_t> seen;
  for (const Event& e : events) seen.insert(e.key);
  return seen.size();
}

void sort_by_time(std::vector<Event>& events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time < b.time; });
}

}  // namespace

std::vector<std::string> workload_kinds() {
  return {"periodic", "bursty", "diurnal", "scan", "trace"};
}

TimedWorkload make_workload(const WorkloadOptions& o) {
  if (o.kind != "trace") {
    if (o.keys == 0) invalid("keys must be at least 1");
    require_positive(o.duration, "duration");
  }
  if (o.kind == "diurnal" || o.kind == "scan" || o.kind == "trace")
    require_positive(o.rate, "rate");
  if (!(o.update_interval >= 0) || !std::isfinite(o.update_interval)) {
    invalid("update_interval must be >= 0 and finite");
  }
  SeededRandom rng(o.seed);
  TimedWorkload w;
  w.duration = o.duration;
  if (o.kind == "periodic") {
    periodic(o, rng, w.events);
  } else if (o.kind == "bursty") {
    bursty(o, rng, w.events);
  } else if (o.kind == "diurnal") {
    diurnal(o, rng, w.events);
  } else if (o.kind == "scan") {
    scan_polluted(o, rng, w.events);
  } else if (o.kind == "trace") {
    w.duration = from_trace(o, rng, w.events);
  } else {
    invalid("unknown kind '" + o.kind + "' (periodic, bursty, diurnal, scan, trace)");
  }
  if (o.update_interval > 0) add_updates(o, rng, w.events, w.duration);
  sort_by_time(w.events);
  w.keys = distinct_keys(w.events);
  return w;
}

TimedWorkload merge_workloads(const std::vector<TimedWorkload>& parts) {
  TimedWorkload w;
  for (const TimedWorkload& p : parts) {
    w.events.insert(w.events.end(), p.events.begin(), p.events.end());
    w.duration = std::max(w.duration, p.duration);
  }
  sort_by_time(w.events);
  w.keys = distinct_keys(w.events);
  return w;
}

std::vector<Event> events_of(const TimedWorkload& workload, std::uint16_t ns) {
  std::vector<Event> out;
  for (const Event& e : workload.events) {
    if (e.ns == ns) out.push_back(e);
  }
  return out;
}

}  // namespace stratacache::predict
