#include "stats/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace stratacache::stats {
namespace {

// Each thread takes the next stripe once, round robin.
std::size_t this_thread_stripe() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t stripe =
      next.fetch_add(1, std::memory_order_relaxed) % LatencyHistogram::kStripes;
  return stripe;
}

}  // namespace

std::size_t LatencyHistogram::bucket_of(std::uint64_t ns) noexcept {
  if (ns < kSub) return static_cast<std::size_t>(ns);
  const auto e = static_cast<unsigned>(std::bit_width(ns)) - 1;  // >= kSubBits
  if (e > kMaxExponent) return kBuckets - 1;
  const std::uint64_t sub = (ns >> (e - kSubBits)) & (kSub - 1);
  return static_cast<std::size_t>(kSub + (e - kSubBits) * kSub + sub);
}

std::uint64_t LatencyHistogram::lower_bound(std::size_t bucket) noexcept {
  if (bucket < kSub) return bucket;
  const std::size_t octave = (bucket - kSub) / kSub;
  const std::uint64_t sub = (bucket - kSub) % kSub;
  return (kSub + sub) << octave;
}

void LatencyHistogram::record(std::uint64_t ns) noexcept { record_on(this_thread_stripe(), ns); }

void LatencyHistogram::record_on(std::size_t stripe, std::uint64_t ns) noexcept {
  Stripe& s = stripes_[stripe % kStripes];
  // Relaxed is enough: stats are read approximately and never drive control flow.
  s.counts[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
  s.sum.fetch_add(ns, std::memory_order_relaxed);
}

HistogramSnapshot LatencyHistogram::snapshot() const {
  HistogramSnapshot out;
  out.counts.assign(kBuckets, 0);
  for (const Stripe& s : stripes_) {
    for (std::size_t i = 0; i < kBuckets; ++i) {
      const std::uint64_t c = s.counts[i].load(std::memory_order_relaxed);
      out.counts[i] += c;
      out.count += c;
    }
    out.sum_ns += s.sum.load(std::memory_order_relaxed);
  }
  return out;
}

std::uint64_t HistogramSnapshot::count_below(std::uint64_t bound_ns) const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    // The last bucket has no upper bound: it is never below a finite bound.
    if (i + 1 >= counts.size() || LatencyHistogram::lower_bound(i + 1) > bound_ns) break;
    n += counts[i];
  }
  return n;
}

std::uint64_t HistogramSnapshot::quantile(double q) const noexcept {
  if (count == 0) return 0;
  const double clamped = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(clamped * static_cast<double>(count))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= rank) return LatencyHistogram::lower_bound(i + 1);
  }
  return LatencyHistogram::lower_bound(counts.size());
}

}  // namespace stratacache::stats
