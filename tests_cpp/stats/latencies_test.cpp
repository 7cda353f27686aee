#include "stats/latencies.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace stratacache::stats {
namespace {

TEST(Latencies, NamesRoundTrip) {
  for (std::size_t i = 0; i < kTiers; ++i) {
    EXPECT_EQ(tier_named(kTierNames[i]), static_cast<Tier>(i));
  }
  for (std::size_t i = 0; i < kOps; ++i) EXPECT_EQ(op_named(kOpNames[i]), static_cast<Op>(i));
  EXPECT_FALSE(tier_named("l9"));
  EXPECT_FALSE(op_named("GET"));
}

TEST(Latencies, RejectsRatesOutsideZeroToOne) {
  for (double r : {0.0, -1.0, 1.5}) EXPECT_THROW(Latencies{r}, Error) << r;
}

TEST(Latencies, FullRateTimesEveryCall) {
  const Latencies all(1.0);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(all.should_time());
}

TEST(Latencies, SampledRateTimesOneCallInPeriod) {
  const Latencies some(0.25);
  EXPECT_DOUBLE_EQ(some.rate(), 0.25);
  int timed = 0;
  for (int i = 0; i < 400; ++i) timed += some.should_time() ? 1 : 0;
  EXPECT_EQ(timed, 100);
}

TEST(Latencies, HistogramsAreSeparatePerTierAndOp) {
  Latencies l(1.0);
  l.record(Tier::kRedis, Op::kGet, 250000);
  l.record(Tier::kL1, Op::kGet, 40);
  l.record(Tier::kL1, Op::kGet, 60);
  EXPECT_EQ(l.snapshot(Tier::kL1, Op::kGet).count, 2U);
  EXPECT_EQ(l.snapshot(Tier::kRedis, Op::kGet).sum_ns, 250000U);
  EXPECT_EQ(l.snapshot(Tier::kRedis, Op::kSet).count, 0U);
  EXPECT_EQ(l.snapshot(Tier::kDisk, Op::kDelete).count, 0U);
}

TEST(Latencies, SummariesListOnlyHistogramsWithValues) {
  Latencies l(1.0);
  for (std::uint64_t v = 1; v <= 100; ++v) l.record(Tier::kRedis, Op::kSet, v * 1000);
  const auto all = l.summarize({1ULL << 16, 1ULL << 20}, {0.5, 1.0});
  ASSERT_EQ(all.size(), 1U);
  EXPECT_EQ(all[0].tier, Tier::kRedis);
  EXPECT_EQ(all[0].op, Op::kSet);
  EXPECT_EQ(all[0].count, 100U);
  EXPECT_EQ(all[0].sum_ns, 5050U * 1000);
  EXPECT_EQ(all[0].below[0], 65U);  // 1000 .. 65000 ns are below 65536
  EXPECT_EQ(all[0].below[1], 100U);
  EXPECT_GE(all[0].quantiles[0], 50000U);
  EXPECT_GE(all[0].quantiles[1], 100000U);
}

}  // namespace
}  // namespace stratacache::stats
