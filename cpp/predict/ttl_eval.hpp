// TTL tuning per namespace: recommend the longest TTL whose stale reads stay within a budget,
// from recorded read and write rates, and check it by replay against a grid search.
#pragma once

#include <cstdint>
#include <vector>

#include "predict/features.hpp"
#include "predict/timed_workload.hpp"

namespace stratacache::predict {

/// Hit ratio and staleness of one TTL, replayed.
struct TtlOutcome {
  double ttl = 0;
  double hit_ratio = 0;       ///< reads served from the cache / reads
  double stale_fraction = 0;  ///< reads served a value older than the source's / reads
  std::uint64_t reads = 0;
};

/// What `recommend_ttl` predicts for its TTL.
struct TtlRecommendation {
  double ttl = 0;
  double predicted_hit_ratio = 0;
  double predicted_stale_fraction = 0;
  std::uint64_t keys = 0;  ///< keys the estimate rests on
};

/// The longest TTL whose predicted fraction of stale reads is at most `staleness_budget`
/// (within [min_ttl, max_ttl]), from each tracked key of namespace `ns` in `table`: its read
/// rate r and write rate u (counts over `observed_seconds`). Each key is modelled as Poisson
/// reads and writes under a TTL-from-load cache: a cycle is one miss and then T seconds of hits
/// (rT of them), a hit at age a being stale with probability 1 - exp(-u a); so its hit ratio is
/// rT / (1 + rT) and its stale fraction r (T - (1 - exp(-u T)) / u) / (1 + rT). Reads weight
/// the keys. Throws Error{kInvalidConfig} for a budget outside [0, 1] or a bad range.
[[nodiscard]] TtlRecommendation recommend_ttl(const FeatureTable& table, std::uint16_t ns,
                                              double observed_seconds, double staleness_budget,
                                              double min_ttl = 1e-3, double max_ttl = 1e7);

/// `recommend_ttl` over all events of namespace `ns` in `workload`, observed over their span.
[[nodiscard]] TtlRecommendation recommend_ttl(const TimedWorkload& workload, std::uint16_t ns,
                                              double staleness_budget);

/// Replays `events` (one namespace, in time order) through a TTL-from-load cache: a read hits
/// while the entry is younger than `ttl` (stale if the key was written since the load); writes
/// reach only the source. Counts reads from `count_from` seconds on.
[[nodiscard]] TtlOutcome replay_ttl(const std::vector<Event>& events, double ttl,
                                    double count_from = 0);

/// One namespace's recommendation checked against the grid.
struct TtlReport {
  std::uint16_t ns = 0;
  TtlRecommendation recommendation;
  TtlOutcome at_recommended;
  /// The grid TTL of highest replayed hit ratio within the budget (the smallest grid TTL if
  /// none is within it).
  TtlOutcome best;
  /// The linear rule ttl = 2 * budget / (read-weighted mean write rate): staleness of a hit of
  /// age a is about u a when u a is small, and ages are uniform over [0, ttl].
  TtlOutcome heuristic;
  std::vector<TtlOutcome> grid;
};

/// For each namespace of `workload`: learns rates from the first `fit_fraction` of its time
/// span, recommends a TTL, and replays it, the heuristic and every `grid` TTL over the rest.
[[nodiscard]] std::vector<TtlReport> evaluate_ttl(const TimedWorkload& workload,
                                                  double staleness_budget,
                                                  const std::vector<double>& grid,
                                                  double fit_fraction = 0.5);

}  // namespace stratacache::predict
