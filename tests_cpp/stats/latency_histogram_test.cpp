#include "stats/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace stratacache::stats {
namespace {

using H = LatencyHistogram;

TEST(LatencyHistogram, BucketsCoverEveryValueInOrder) {
  // Every value lands in the bucket whose [lower, next lower) range holds it.
  for (std::uint64_t v : {0ULL, 1ULL, 7ULL, 8ULL, 9ULL, 15ULL, 16ULL, 17ULL, 1000ULL, 123456789ULL,
                          (1ULL << 37) - 1}) {
    const std::size_t b = H::bucket_of(v);
    ASSERT_LT(b, H::kBuckets) << v;
    EXPECT_LE(H::lower_bound(b), v) << v;
    EXPECT_GT(H::lower_bound(b + 1), v) << v;
  }
  for (std::size_t b = 0; b + 1 < H::kBuckets; ++b) {
    EXPECT_LT(H::lower_bound(b), H::lower_bound(b + 1));
    EXPECT_EQ(H::bucket_of(H::lower_bound(b)), b);
  }
}

TEST(LatencyHistogram, RelativeErrorIsAtMostAnEighth) {
  for (std::size_t b = H::kSub; b + 1 < H::kBuckets; ++b) {
    const auto lo = static_cast<double>(H::lower_bound(b));
    const auto width = static_cast<double>(H::lower_bound(b + 1)) - lo;
    EXPECT_LE(width / lo, 0.125 + 1e-12) << b;
  }
}

TEST(LatencyHistogram, HugeValuesShareTheLastBucket) {
  EXPECT_EQ(H::bucket_of(1ULL << 37), H::kBuckets - 1);
  EXPECT_EQ(H::bucket_of(~0ULL), H::kBuckets - 1);
}

TEST(LatencyHistogram, SnapshotSumsStripesCountAndSum) {
  auto h = std::make_unique<H>();
  h->record_on(0, 100);
  h->record_on(1, 200);
  h->record_on(3, 5000);
  const HistogramSnapshot s = h->snapshot();
  EXPECT_EQ(s.count, 3U);
  EXPECT_EQ(s.sum_ns, 5300U);
  EXPECT_EQ(s.counts[H::bucket_of(100)], 1U);
  EXPECT_EQ(s.counts[H::bucket_of(5000)], 1U);
}

TEST(LatencyHistogram, CountBelowIsExactAtPowersOfTwo) {
  auto h = std::make_unique<H>();
  for (std::uint64_t v = 1; v <= 4096; ++v) h->record(v);
  const HistogramSnapshot s = h->snapshot();
  EXPECT_EQ(s.count_below(1024), 1023U);  // 1 .. 1023
  EXPECT_EQ(s.count_below(4096), 4095U);
  EXPECT_EQ(s.count_below(1ULL << 40), 4096U);
  EXPECT_EQ(s.count_below(0), 0U);
}

TEST(LatencyHistogram, QuantilesAreUpperBucketBoundsNearTheTruth) {
  auto h = std::make_unique<H>();
  for (std::uint64_t v = 1; v <= 10000; ++v) h->record(v);
  const HistogramSnapshot s = h->snapshot();
  for (double q : {0.5, 0.9, 0.99}) {
    const auto truth = q * 10000;
    const auto est = static_cast<double>(s.quantile(q));
    EXPECT_GE(est, truth) << q;
    EXPECT_LE(est, truth * 1.125 + 1) << q;
  }
  EXPECT_EQ(H().snapshot().quantile(0.5), 0U);
}

TEST(LatencyHistogram, ConcurrentRecordsAreAllCounted) {
  auto h = std::make_unique<H>();
  constexpr int kThreads = 4;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kEach; ++i) h->record(static_cast<std::uint64_t>(t * 100 + i % 50));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(h->snapshot().count, static_cast<std::uint64_t>(kThreads * kEach));
}

}  // namespace
}  // namespace stratacache::stats
