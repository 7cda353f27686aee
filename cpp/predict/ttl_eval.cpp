#include "predict/ttl_eval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <unordered_map>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

struct Rates {
  double read = 0;
  double write = 0;
};

/// Predicted (hit ratio, stale fraction) of a TTL over keys with the given rates.
std::pair<double, double> predict(const std::vector<Rates>& keys, double ttl) {
  double reads = 0;
  double hits = 0;
  double stale = 0;
  for (const Rates& k : keys) {
    const double rt = k.read * ttl;
    // T - (1 - exp(-uT)) / u, written to stay exact as u goes to 0.
    const double unstale_age = k.write > 0 ? ttl + std::expm1(-k.write * ttl) / k.write : 0.0;
    reads += k.read;
    hits += k.read * rt / (1 + rt);
    stale += k.read * k.read * unstale_age / (1 + rt);
  }
  if (reads <= 0) return {0.0, 0.0};
  return {hits / reads, stale / reads};
}

std::vector<Rates> rates_of(const FeatureTable& table, std::uint16_t ns, double seconds) {
  std::vector<Rates> out;
  for (const std::int64_t key : table.keys()) {
    const KeyStats* s = table.find(key);
    if (s->ns != ns || s->reads == 0) continue;
    out.push_back({s->reads / seconds, s->writes / seconds});
  }
  return out;
}

/// Writes per second of the average read's key, from `events` before `until`.
double read_weighted_write_rate(const std::vector<Event>& events, double until) {
  std::unordered_map<std::int64_t, std::pair<double, double>> counts;  // reads, writes
  for (const Event& e : events) {
    if (e.time >= until) break;
    auto& [reads, writes] = counts[e.key];
    (e.op == Op::kGet ? reads : writes) += 1;
  }
  double reads = 0;
  double weighted = 0;
  for (const auto& [key, c] : counts) {
    reads += c.first;
    weighted += c.first * c.second;
  }
  const double seconds = std::min(until, events.back().time) - events.front().time;
  return reads > 0 && seconds > 0 ? weighted / reads / seconds : 0.0;
}

/// The recommendation from `events` (one namespace, in order) before `until`.
TtlRecommendation recommend_from(const std::vector<Event>& events, std::uint16_t ns, double until,
                                 double budget) {
  if (events.empty()) {
    throw Error(ErrorCode::kInvalidConfig, "ttl: namespace " + std::to_string(ns) + " is empty");
  }
  FeatureTable table({.capacity = events.size()});
  for (const Event& e : events) {
    if (e.time < until) table.record(e);
  }
  const double seconds = std::min(until, events.back().time) - events.front().time;
  return recommend_ttl(table, ns, std::max(seconds, 1e-9), budget);
}

}  // namespace

TtlRecommendation recommend_ttl(const TimedWorkload& workload, std::uint16_t ns,
                                double staleness_budget) {
  return recommend_from(events_of(workload, ns), ns, std::numeric_limits<double>::infinity(),
                        staleness_budget);
}

TtlRecommendation recommend_ttl(const FeatureTable& table, std::uint16_t ns,
                                double observed_seconds, double staleness_budget, double min_ttl,
                                double max_ttl) {
  if (!(staleness_budget >= 0 && staleness_budget <= 1)) {
    throw Error(ErrorCode::kInvalidConfig, "ttl: staleness_budget must be in [0, 1]");
  }
  if (!(observed_seconds > 0) || !(min_ttl > 0) || !(max_ttl >= min_ttl) ||
      !std::isfinite(max_ttl)) {
    throw Error(ErrorCode::kInvalidConfig,
                "ttl: needs observed_seconds > 0 and 0 < min_ttl <= max_ttl < inf");
  }
  const std::vector<Rates> keys = rates_of(table, ns, observed_seconds);
  auto stale = [&](double ttl) { return predict(keys, ttl).second; };
  double lo = min_ttl;
  double hi = max_ttl;
  if (stale(hi) <= staleness_budget) {
    lo = hi;
  } else if (stale(lo) <= staleness_budget) {
    // Largest TTL within the budget: bisection in log space (staleness grows with the TTL).
    for (int i = 0; i < 60; ++i) {
      const double mid = std::sqrt(lo * hi);
      (stale(mid) <= staleness_budget ? lo : hi) = mid;
    }
  }
  const auto [hit, st] = predict(keys, lo);
  return {lo, hit, st, keys.size()};
}

TtlOutcome replay_ttl(const std::vector<Event>& events, double ttl, double count_from) {
  struct Cached {
    double expires = -1;
    std::uint64_t version = 0;
  };
  std::unordered_map<std::int64_t, Cached> cache;
  std::unordered_map<std::int64_t, std::uint64_t> versions;
  std::uint64_t hits = 0;
  std::uint64_t stale = 0;
  TtlOutcome out;
  out.ttl = ttl;
  for (const Event& e : events) {
    std::uint64_t& version = versions[e.key];
    if (e.op == Op::kSet) {
      ++version;
      continue;
    }
    Cached& c = cache[e.key];
    const bool counted = e.time >= count_from;
    out.reads += counted ? 1 : 0;
    if (c.expires > e.time) {
      hits += counted ? 1 : 0;
      stale += counted && c.version != version ? 1 : 0;
    } else {
      c = {e.time + ttl, version};
    }
  }
  if (out.reads > 0) {
    out.hit_ratio = static_cast<double>(hits) / static_cast<double>(out.reads);
    out.stale_fraction = static_cast<double>(stale) / static_cast<double>(out.reads);
  }
  return out;
}

std::vector<TtlReport> evaluate_ttl(const TimedWorkload& workload, double staleness_budget,
                                    const std::vector<double>& grid, double fit_fraction) {
  if (grid.empty()) throw Error(ErrorCode::kInvalidConfig, "ttl: the grid is empty");
  if (!(fit_fraction > 0 && fit_fraction < 1)) {
    throw Error(ErrorCode::kInvalidConfig, "ttl: fit_fraction must be in (0, 1)");
  }
  std::set<std::uint16_t> namespaces;
  for (const Event& e : workload.events) namespaces.insert(e.ns);
  std::vector<TtlReport> out;
  for (const std::uint16_t ns : namespaces) {
    const std::vector<Event> events = events_of(workload, ns);
    const double t0 = events.front().time;
    const double fit_end = t0 + fit_fraction * (events.back().time - t0);
    TtlReport r;
    r.ns = ns;
    r.recommendation = recommend_from(events, ns, fit_end, staleness_budget);
    r.at_recommended = replay_ttl(events, r.recommendation.ttl, fit_end);
    for (const double ttl : grid) r.grid.push_back(replay_ttl(events, ttl, fit_end));
    r.best = *std::min_element(r.grid.begin(), r.grid.end(),
                               [](auto& a, auto& b) { return a.ttl < b.ttl; });
    for (const TtlOutcome& g : r.grid) {
      if (g.stale_fraction <= staleness_budget &&
          (r.best.stale_fraction > staleness_budget || g.hit_ratio > r.best.hit_ratio)) {
        r.best = g;
      }
    }
    const double mean_write_rate = read_weighted_write_rate(events, fit_end);
    const double heuristic = mean_write_rate > 0 ? 2 * staleness_budget / mean_write_rate : 1e7;
    r.heuristic = replay_ttl(events, std::max(heuristic, 1e-3), fit_end);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace stratacache::predict
