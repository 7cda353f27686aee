// Refresh-ahead, replayed: how many request-path misses each refresh method saves for how many
// extra loader calls, on a timed workload through a cache whose entries live `ttl` seconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "predict/access_predictor.hpp"
#include "predict/timed_workload.hpp"

namespace stratacache::predict {

/// Options of `evaluate_refresh`; each sweep list gives one point per value.
struct RefreshOptions {
  double ttl = 300;   ///< seconds an entry lives after a load, a refresh or a write
  double margin = 5;  ///< timer methods decide this many seconds before expiry (< ttl)
  double warmup = 0;  ///< seconds at the start that no counter includes (models learn there)
  double loader_seconds = 3;         ///< XFetch's delta: the loader's compute time
  std::vector<double> xfetch_betas;  ///< XFetch's beta sweep
  std::vector<double> windows;       ///< read-in-window sweep, as fractions of ttl
  std::vector<double> thresholds;    ///< predictor sweep over P(read before the next expiry)
  bool oracle = true;                ///< add the clairvoyant point (the ceiling)
  PredictorOptions predictor;        ///< horizon and sample_rate are set by the evaluation
  std::uint64_t seed = 1;
};

/// One replay: a method at one parameter value.
struct RefreshPoint {
  std::string method;  ///< "none", "xfetch", "read_in_window", "predictor", "oracle"
  double parameter = 0;
  std::uint64_t gets = 0;
  std::uint64_t misses = 0;     ///< reads that found no live entry and waited for the loader
  std::uint64_t refreshes = 0;  ///< loader calls made ahead of need
  [[nodiscard]] std::uint64_t loader_calls() const noexcept { return misses + refreshes; }
};

/// Replays `workload` once per method and parameter. Reads that miss load the value (one
/// loader call on the request path); writes put the new value in the cache (write-through, no
/// loader call). Methods:
///  - none: entries just expire;
///  - xfetch (beta): a read at t refreshes if t - loader_seconds * beta * ln(U) >= expiry [1];
///  - read_in_window (w): `margin` before expiry, refresh if the key was read in the last
///    w * ttl seconds (w = 1: "read during its lifetime");
///  - predictor (threshold): `margin` before expiry, refresh if the AccessPredictor's
///    P(read in (expiry, now + ttl]) >= threshold; it learns online from these decision points
///    (labels known ttl later), starting untrained;
///  - oracle: refresh exactly when such a read will come (not realisable; the ceiling).
/// [1] Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache Stampede Prevention",
///     VLDB 2015.
/// Throws Error{kInvalidConfig} for a non-positive ttl or a margin outside [0, ttl).
[[nodiscard]] std::vector<RefreshPoint> evaluate_refresh(const TimedWorkload& workload,
                                                         const RefreshOptions& options);

}  // namespace stratacache::predict
