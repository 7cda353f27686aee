// Miss-ratio curves: the miss ratio a policy reaches at each cache size on a trace, exact or
// estimated from a spatial sample of the keys, so that one pass tells what memory buys.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace stratacache::predict {

/// What `miss_ratio_curve` computes and how.
struct MrcOptions {
  std::string policy = "lru";        ///< a store policy, or "opt"
  double sample_rate = 0.01;         ///< share of the keys sampled, in (0, 1]; 1 is exact
  std::vector<std::uint64_t> sizes;  ///< cache sizes in entries; empty: `default_sizes`
  std::uint64_t max_keys = 0;        ///< "lru" only: fixed-size SHARDS tracking at most this many
                                     ///< sampled keys, starting at `sample_rate` (0: fixed-rate)
  bool adjust = true;              ///< SHARDS_adj (see `lru_miss_ratios`, `miniature_miss_ratios`)
  std::uint64_t min_entries = 32;  ///< sizes the sample would hold fewer entries of are
                                   ///< estimated from a larger sample (0: never)
  std::uint64_t seed = 0;          ///< picks the key sample (Python always uses 0)
  unsigned threads = 0;            ///< replays run in parallel; 0: min(2, hardware threads)
};

/// The miss ratio at each size, with what the estimate rests on.
struct MissRatioCurve {
  std::string policy;
  double sample_rate = 1;              ///< rate used (fixed-size SHARDS: the final rate)
  std::uint64_t requests = 0;          ///< requests of the trace
  std::uint64_t sampled_requests = 0;  ///< requests of the sampled keys
  std::uint64_t distinct_keys = 0;     ///< keys of the trace, estimated from the sample
  std::vector<std::uint64_t> sizes;    ///< ascending, distinct, >= 1
  std::vector<double> miss_ratios;     ///< in [0, 1], one per size
};

/// Points of the default size grid.
inline constexpr std::size_t kDefaultCurvePoints = 40;

/// A geometric grid of `points` sizes (fewer once rounded sizes coincide) from round(1 / rate),
/// the smallest cache a rate-`rate` sample can model with one entry, up to `distinct_keys`.
[[nodiscard]] std::vector<std::uint64_t> default_sizes(std::uint64_t distinct_keys, double rate,
                                                       std::size_t points = kDefaultCurvePoints);

/// The miss-ratio curve of `options.policy` on `keys` (every object weighs 1).
///
/// "lru" uses SHARDS (`shards_fixed_rate`, or `shards_fixed_size` with `max_keys`): one pass
/// over the sampled requests gives every size. Other policies use miniature simulation
/// (`miniature_miss_ratios`), one replay of the sample per size, in parallel. At sample_rate 1
/// both are exact: the curve equals `simulate` at every size. For "opt" (Belady) miniature
/// simulation is an approximation without LRU's theory behind it; bench_mrc measures it.
///
/// A sample models a cache of S entries with S * R of its own; below `min_entries` of them the
/// estimate degrades (distances are counted in steps of 1 / R, and a policy's queues shrink to
/// nothing), so such sizes are estimated from a larger sample instead. For "lru", nested
/// samples in the same pass (`shards_nested`), at rates up to 32x apart up to the one that
/// gives the smallest size `min_entries` entries (at 1%: 1% and that one); a size uses the lowest
/// rate that gives it 8 * min_entries entries, or the highest. For the others, each size's own rate
/// (`miniature_rate`). Small sizes thus cost up to a full pass. Only the requests of the
/// largest sample are kept (`TraceSample`; from a file, while it is read).
///
/// With `adjust` below rate 1 the sample is corrected with the trace's requests and distinct
/// keys (counted on every request by `DistinctCounter`): `regression_misses` for the
/// unbounded LRU sample and every miniature, SHARDS_adj for LRU's bounded small-size samples.
///
/// Throws Error{kInvalidConfig} naming the option: unknown policy, sample_rate outside
/// [2^-24, 1], a size of 0, or max_keys with a policy other than "lru".
[[nodiscard]] MissRatioCurve miss_ratio_curve(std::span<const std::int64_t> keys,
                                              const MrcOptions& options);

/// Checks `options` (as `miss_ratio_curve` does), then `read_trace(path)` and
/// `miss_ratio_curve`. Also throws what `read_trace` throws.
[[nodiscard]] MissRatioCurve miss_ratio_curve_file(const std::string& path,
                                                   const MrcOptions& options);

}  // namespace stratacache::predict
