// Warming after a restart, replayed: which keys to preload into an empty cache so that the
// first requests after the restart hit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "predict/access_predictor.hpp"
#include "predict/timed_workload.hpp"

namespace stratacache::predict {

/// Options of `evaluate_warming`.
struct WarmOptions {
  double restart_at = 0;            ///< seconds: the cache is flushed at this time
  std::uint64_t warm_keys = 1000;   ///< N: keys each method preloads
  std::uint64_t capacity = 0;       ///< LRU entries after the restart (0: N)
  std::uint64_t measure_reads = 0;  ///< reads after the restart that count (0: N)
  /// Reads before the restart that the frequency and recency baselines look at (0: as many as
  /// are measured).
  std::uint64_t window_reads = 0;
  /// The predictor's horizon is the time the last `measure_reads` reads before the restart
  /// took: about as long as the measured reads will take.
  PredictorOptions predictor;
};

/// Hits of one method over the measured reads.
struct WarmResult {
  std::string method;  ///< "cold", "most_recent", "most_frequent", "predictor", "oracle"
  std::uint64_t preloaded = 0;
  std::uint64_t hits = 0;
  std::uint64_t reads = 0;
  [[nodiscard]] double hit_ratio() const noexcept {
    return reads == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(reads);
  }
};

/// Replays the events before `restart_at` into each method's state (the predictor learns from
/// all of them, sampled as its options say), preloads its N keys
/// (best last, so the best are the most recently used) into an empty LRU cache, then replays
/// the first `measure_reads` reads after the restart (misses insert, as a cache does; writes
/// are ignored). Methods: cold (nothing), most_recent (the N keys read last in the window),
/// most_frequent (the N keys read most in the window, ties to the more recent), predictor (the
/// N tracked keys with the highest P(read within the window)), oracle (the N keys read most in
/// the measured reads: the ceiling). Throws Error{kInvalidConfig} if N is 0 or no read
/// follows the restart.
[[nodiscard]] std::vector<WarmResult> evaluate_warming(const TimedWorkload& workload,
                                                       const WarmOptions& options);

}  // namespace stratacache::predict
