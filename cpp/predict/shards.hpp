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
/// With `adjust`, SHARDS_adj [1]: a sample of keys that is more (or less) popular
/// than the whole shifts the curve; the difference between the expected and the estimated
/// number of requests is added to the first bucket (as hits at every size), and ratios are
/// taken over the trace's requests. Ratios are clamped to [0, 1].
///
/// [1] Waldspurger et al., FAST 2015.
[[nodiscard]] std::vector<double> lru_miss_ratios(const ReuseHistogram& histogram,
                                                  std::span<const std::uint64_t> sizes,
                                                  bool adjust);

}  // namespace stratacache::predict
