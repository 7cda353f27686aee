// Miniature simulation: the miss-ratio curve of any policy, from a spatially sampled trace
// replayed through caches scaled down by the sampling rate.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "predict/shards.hpp"

namespace stratacache::predict {

/// How `miniature_miss_ratios` samples.
struct MiniatureOptions {
  double rate = 0.01;              ///< R, the share of the keys sampled
  std::uint64_t seed = 0;          ///< picks the sample (see `SpatialSampler`)
  std::uint64_t min_entries = 32;  ///< smallest miniature cache (0: none)
  bool adjust = true;              ///< correct for the sample's share of the requests
  unsigned threads = 1;            ///< sizes replayed in parallel
  std::uint64_t requests = 0;      ///< requests of the whole trace (0: keys.size())
  double population_keys = 0;      ///< distinct keys of the whole trace (0: unknown)
  /// The sampling value of each of `keys` under `seed` (`TraceSample::values`), which makes a
  /// size's own sample a comparison per request; empty: `keys` are hashed again.
  std::span<const std::uint32_t> values = {};
};

/// Sizes just above the floor get up to this many times min_entries entries...
inline constexpr double kBoostEntries = 8;
/// ...from a sample up to this many times the rate.
inline constexpr double kBoostRate = 8;

/// The rate at which `miniature_miss_ratios` replays a cache of `size` entries: options.rate,
/// or min(1, min_entries / size) for a size that would get fewer than min_entries entries; and
/// for sizes up to kBoostEntries times that, a sample up to kBoostRate times as large, so
/// that they get kBoostEntries * min_entries entries: variance falls with the sampled keys,
/// and such a sample costs a few percent of a full replay. Without a floor (min_entries 0),
/// options.rate.
[[nodiscard]] double miniature_rate(double size, const MiniatureOptions& options);

/// The requests of the keys `sampler` keeps, in order.
[[nodiscard]] std::vector<std::int64_t> sample_trace(std::span<const std::int64_t> keys,
                                                     const SpatialSampler& sampler);

/// The requests of `keys` whose sampling value (`values`, one per key) is below `threshold`:
/// `sample_trace` with a sampler of that threshold and the values' seed, without hashing.
[[nodiscard]] std::vector<std::int64_t> sample_trace(std::span<const std::int64_t> keys,
                                                     std::span<const std::uint32_t> values,
                                                     std::uint64_t threshold);

/// Miss ratio of `policy` at each of `sizes` on `keys`, estimated by miniature simulation [1].
///
/// A cache of S entries is modelled by a cache of round(S * R) entries replaying the requests
/// of a rate-R spatial sample of the keys (`sample`, from `sample_trace`; `keys` itself at
/// R = 1). `keys` is the whole trace, or a sample of it at a rate no size needs more of (a
/// `TraceSample`, with `requests` the trace's): sampling keys, not requests, keeps each key's reuse
/// pattern, and scaling the cache keeps its ratio to the footprint. The policy runs unchanged
/// except for constants counted in requests, which are scaled by R too (W-TinyLFU's minimum
/// adaptation sample), since the sample sees R times fewer requests.
///
/// A policy needs room to be itself (S3-FIFO's small queue is a tenth of the cache; W-TinyLFU's
/// window a hundredth), so a size whose miniature would hold fewer than `min_entries` entries
/// is replayed at a larger rate (`miniature_rate`), from the whole trace; its cost is then that
/// rate's share of a full replay. With `adjust`, a sample whose keys are more or less
/// popular than the whole is corrected for: given `population_keys`, by `regression_misses`
/// (each miss weighed by its key's sampled requests as well); otherwise each miss count is
/// divided by the requests the sample was expected to hold (N * rate) rather than those it
/// holds, the SHARDS_adj correction [2], the surplus or shortfall counted as hits. Ratios are
/// clamped to [0, 1]. At R = 1 the curve
/// is exact: one full replay per size. Sizes run in parallel on `threads` threads.
///
/// [1] C. A. Waldspurger, T. Saemundsson, I. Ahmad, N. Park, "Cache Modeling and Optimization
///     using Miniature Simulations", USENIX ATC 2017.
/// [2] C. A. Waldspurger, N. Park, A. Garthwaite, I. Ahmad, "Efficient MRC Construction with
///     SHARDS", USENIX FAST 2015.
[[nodiscard]] std::vector<double> miniature_miss_ratios(std::span<const std::int64_t> keys,
                                                        std::span<const std::int64_t> sample,
                                                        std::string_view policy,
                                                        std::span<const std::uint64_t> sizes,
                                                        const MiniatureOptions& options);

}  // namespace stratacache::predict
