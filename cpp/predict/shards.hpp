// SHARDS: the LRU miss-ratio curve of a trace, for every cache size in one pass, from a
// spatially hashed sample of its keys.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/hash.hpp"

namespace stratacache::predict {

/// The spatial filter of SHARDS: a key is sampled iff `hash mod P < T`, so a sampled key keeps
/// every one of its requests and the sample is a rate-R subset of the keys, R = T / P.
/// The sampling hash re-mixes the key hash, so the sampled keys' hashes stay uniform for the
/// policies and tables that index by them; `seed` picks another, independent subset.
class SpatialSampler {
 public:
  /// P: sampling values lie in [0, P).
  static constexpr std::uint64_t kModulus = std::uint64_t{1} << 24;

  /// Samples `rate` of the keys. Throws Error{kInvalidConfig} unless rate is in [1/P, 1].
  SpatialSampler(double rate, std::uint64_t seed);

  /// The key's sampling value, in [0, P); `hash` is `KeyMap::hash_of(key)`.
  [[nodiscard]] std::uint64_t value(std::uint64_t hash) const noexcept {
    return mix64(hash ^ salt_) >> 40;
  }
  [[nodiscard]] bool sampled(std::uint64_t hash) const noexcept { return value(hash) < threshold_; }
  /// T.
  [[nodiscard]] std::uint64_t threshold() const noexcept { return threshold_; }
  /// Lowers T (fixed-size SHARDS); keys at or above the new T are no longer sampled.
  void lower(std::uint64_t threshold) noexcept { threshold_ = threshold; }
  /// R = T / P.
  [[nodiscard]] double rate() const noexcept {
    return static_cast<double>(threshold_) / static_cast<double>(kModulus);
  }

 private:
  std::uint64_t threshold_;
  std::uint64_t salt_;
};

/// Estimated LRU hits by cache size, in requests of the whole trace.
struct ReuseHistogram {
  /// hits_at[p]: requests whose estimated stack position is p, i.e. that an LRU cache of p
  /// entries or more hits (index 0 is unused).
  std::vector<double> hits_at;
  double total = 0;                    ///< estimated requests, cold ones included
  std::uint64_t requests = 0;          ///< requests of the trace
  std::uint64_t sampled_requests = 0;  ///< requests of sampled keys
  double distinct_keys = 0;            ///< estimated distinct keys of the trace
  double rate = 1;                     ///< sampling rate at the end of the pass
  // For the regression estimator (`lru_miss_ratios`); fixed-rate SHARDS fills them.
  /// key_requests_at[p]: the sum, over the sampled requests at stack position p, of the number
  /// of sampled requests of their key (empty if not gathered).
  std::vector<double> key_requests_at;
  double sampled_keys = 0;          ///< distinct sampled keys
  double key_requests_squared = 0;  ///< sum over the sampled keys of their requests squared
  double population_keys = 0;       ///< distinct keys of the whole trace, counted on every
                                    ///< request (`DistinctCounter`); 0 if not counted
};

/// Fixed-rate SHARDS [1]: stack distances of the requests of a rate-R key sample.
///
/// A sampled request whose key saw d distinct sampled keys since its previous request has
/// estimated stack position d / R + 1 in the whole trace (each of the D keys in between is
/// sampled with probability R, so d / R estimates D without bias); it stands for 1 / R
/// requests. At R = 1 this is Mattson's exact stack algorithm, so the curve equals replaying
/// LRU at every size.
///
/// [1] C. A. Waldspurger, N. Park, A. Garthwaite, I. Ahmad, "Efficient MRC Construction with
///     SHARDS", USENIX FAST 2015.
///
/// Below rate 1 the pass also gathers the regression data of `lru_miss_ratios`
/// (`key_requests_at` and the sample's totals; `population_keys` is left to the caller).
[[nodiscard]] ReuseHistogram shards_fixed_rate(std::span<const std::int64_t> keys, double rate,
                                               std::uint64_t seed);

/// Fixed-size SHARDS [1]: at most `max_keys` sampled keys, starting at rate `initial_rate`.
///
/// When a new key would exceed the bound, the sampled key with the largest sampling value
/// leaves, T drops to that value (ties leave with it), and R = T / P with it. A request counts
/// 1 / R for the R in force when it occurs, which is the paper's rescaling of the histogram by
/// R_new / R_old at each drop. Memory stays O(max_keys) in the keys, while the histogram grows
/// with the largest estimated stack position.
///
/// [1] Waldspurger et al., FAST 2015.
[[nodiscard]] ReuseHistogram shards_fixed_size(std::span<const std::int64_t> keys,
                                               std::uint64_t max_keys, double initial_rate,
                                               std::uint64_t seed);

/// Miss ratio of an LRU cache at each of `sizes` (entries >= 1).
///
/// With `adjust`, a sample of keys that is more (or less) popular than the whole is corrected
/// for with what the whole trace is known to hold. If the histogram carries the regression
/// data and the trace's distinct keys (`population_keys`) and the rate is below 1, by
/// `regression_misses`; otherwise by SHARDS_adj [1]: the difference between the expected and
/// the estimated number of requests is added to the first bucket (as hits at every size), and
/// ratios are taken over the trace's requests. Ratios are clamped to [0, 1].
///
/// [1] Waldspurger et al., FAST 2015.
[[nodiscard]] std::vector<double> lru_miss_ratios(const ReuseHistogram& histogram,
                                                  std::span<const std::uint64_t> sizes,
                                                  bool adjust);

/// One sample of `shards_nested`.
struct NestedTier {
  double rate = 1;             ///< share of the keys sampled
  std::uint64_t max_size = 0;  ///< largest cache size the tier must model (0: any)
};

/// Fixed-rate SHARDS at each tier's rate in one pass over `keys`, with one hash per request:
/// every tier uses the sampling value of `SpatialSampler(rate, seed)`, so a lower rate's sample
/// is a subset of a higher one's, and each is the sample `shards_fixed_rate` takes. `keys` may
/// be the whole trace or any sample of it that holds the highest tier's (a `TraceSample`);
/// `requests` and `population_keys` are the whole trace's requests and distinct keys (0: not
/// known, and the regression estimator not used).
///
/// A tier bounded by `max_size` only needs stack positions up to it, so it keeps the
/// ceil(max_size * rate) + 1 sampled keys requested most recently (`forget_oldest`): its
/// distances are exact below that and cold above, its memory small, and its histogram equal to
/// `shards_fixed_rate`'s up to max_size. Bounded tiers carry no regression data
/// (`lru_miss_ratios` then uses SHARDS_adj); unbounded ones do, as `shards_fixed_rate` gathers
/// it. Throws Error{kInvalidConfig} for a rate outside [2^-24, 1].
[[nodiscard]] std::vector<ReuseHistogram> shards_nested(std::span<const std::int64_t> keys,
                                                        std::span<const NestedTier> tiers,
                                                        std::uint64_t seed, std::uint64_t requests,
                                                        double population_keys);

/// What a sample knows about its keys, for `regression_misses`.
struct SampleTotals {
  double requests = 0;             ///< B: sampled requests
  double keys = 0;                 ///< K: distinct sampled keys
  double requests_squared = 0;     ///< A: sum over the sampled keys of their requests squared
  double population_requests = 0;  ///< N: requests of the whole trace
  double population_keys = 0;      ///< D: distinct keys of the whole trace
};

/// The trace's misses estimated from a sample's: the regression (GREG) estimator of survey
/// sampling [1], with each sampled key's requests n and the constant 1 as auxiliaries, whose
/// totals over the whole trace (N requests, D keys) are known. The misses m of each sampled key
/// are fitted as b1 * n + b2 by least squares; the estimate is b1 * N + b2 * D (the fit's
/// residuals sum to zero). `misses` is the sum of m over the sampled keys, `key_misses` the sum
/// of m * n. A sample whose keys are more popular than the whole thus has its surplus of
/// requests removed in the proportion its own keys miss them, and the cold misses of large
/// caches rest on the counted D rather than on the sample's share of it.
/// Falls back to the ratio estimator N * misses / B when the fit is degenerate (every sampled
/// key requested equally often).
///
/// [1] C.-E. Särndal, B. Swensson, J. Wretman, "Model Assisted Survey Sampling", 1992, ch. 6.
[[nodiscard]] double regression_misses(double misses, double key_misses, const SampleTotals& t);

}  // namespace stratacache::predict
