// LatencyHistogram: log-linear buckets over nanoseconds, as HdrHistogram lays them out.
//
// Values below 8 ns get a bucket each; above, every power of two is split into 8 equal
// sub-buckets, so a bucket's width is at most 1/8 of its lower bound (12.5% relative error),
// up to 2^37 ns (about 137 s); longer values land in the last bucket. Recording is one
// bit_width, a shift and a relaxed fetch_add on the calling thread's stripe: threads spread
// over kStripes copies of the counts so that two cores rarely share a cache line.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace stratacache::stats {

/// An immutable copy of a histogram's counts.
struct HistogramSnapshot {
  std::vector<std::uint64_t> counts;  ///< one per bucket, see LatencyHistogram::lower_bound
  std::uint64_t count = 0;            ///< values recorded
  std::uint64_t sum_ns = 0;           ///< their sum

  /// Values recorded that were below `bound_ns` (exact when bound_ns is a bucket boundary,
  /// e.g. a power of two; otherwise counts the buckets that end at or below it).
  [[nodiscard]] std::uint64_t count_below(std::uint64_t bound_ns) const noexcept;
  /// The upper bound of the bucket holding the q-quantile (0 <= q <= 1); 0 when empty.
  [[nodiscard]] std::uint64_t quantile(double q) const noexcept;
};

/// A striped, lock-free latency histogram.
class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 3;
  static constexpr std::uint64_t kSub = 1U << kSubBits;
  static constexpr unsigned kMaxExponent = 36;  ///< values >= 2^37 share the last bucket
  static constexpr std::size_t kBuckets = kSub + (kMaxExponent - kSubBits + 1) * kSub;
  static constexpr std::size_t kStripes = 4;

  /// Bucket index of a value.
  [[nodiscard]] static std::size_t bucket_of(std::uint64_t ns) noexcept;
  /// Smallest value of a bucket; `lower_bound(i + 1)` is the bucket's exclusive upper bound.
  [[nodiscard]] static std::uint64_t lower_bound(std::size_t bucket) noexcept;

  /// Adds one value. Thread-safe, wait-free.
  void record(std::uint64_t ns) noexcept;
  /// Adds a value on behalf of the given stripe (tests; `record` picks the caller's).
  void record_on(std::size_t stripe, std::uint64_t ns) noexcept;
  /// Sum of all stripes; concurrent records may or may not be included.
  [[nodiscard]] HistogramSnapshot snapshot() const;

 private:
  struct alignas(64) Stripe {
    std::array<std::atomic<std::uint64_t>, kBuckets> counts{};
    std::atomic<std::uint64_t> sum{0};
  };
  std::array<Stripe, kStripes> stripes_{};
};

}  // namespace stratacache::stats
