#include "predict/shards.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "common/error.hpp"
#include "predict/key_map.hpp"
#include "predict/simulator.hpp"
#include "synthetic_traces.hpp"

namespace stratacache::predict {
namespace {

using testing::zipf_trace;

TEST(SpatialSampler, RateOneKeepsEveryKey) {
  const SpatialSampler s(1.0, 0);
  EXPECT_EQ(s.threshold(), SpatialSampler::kModulus);
  for (std::int64_t k = -1000; k < 1000; ++k) EXPECT_TRUE(s.sampled(KeyMap::hash_of(k)));
}

TEST(SpatialSampler, KeepsAboutTheRateAndTheSeedPicksAnotherSubset) {
  const SpatialSampler a(0.1, 0);
  const SpatialSampler b(0.1, 1);
  int in_a = 0;
  int in_both = 0;
  constexpr int kKeys = 100000;
  for (std::int64_t k = 0; k < kKeys; ++k) {
    const std::uint64_t h = KeyMap::hash_of(k);
    in_a += a.sampled(h) ? 1 : 0;
    in_both += a.sampled(h) && b.sampled(h) ? 1 : 0;
  }
  // Binomial(100000, 0.1): sd ~95; independent subsets overlap on ~1% of the keys.
  EXPECT_NEAR(in_a, kKeys / 10, 600);
  EXPECT_NEAR(in_both, kKeys / 100, 300);
}

TEST(SpatialSampler, RejectsRatesOutsideItsRange) {
  for (const double r : {0.0, -0.5, 1.5, 1e-9, std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::infinity()}) {
    try {
      (void)SpatialSampler(r, 0);
      ADD_FAILURE() << "accepted " << r;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
      EXPECT_NE(std::string(e.what()).find("sample_rate"), std::string::npos);
    }
  }
}

TEST(ShardsFixedRate, RateOneIsMattsonsExactCurve) {
  const auto keys = zipf_trace(20000, 2000, 0.8, 3);
  const ReuseHistogram h = shards_fixed_rate(keys, 1.0, 0);
  EXPECT_EQ(h.sampled_requests, keys.size());
  EXPECT_EQ(h.total, static_cast<double>(keys.size()));
  const std::vector<std::uint64_t> sizes = {1, 2, 10, 100, 1000, 1999, 2000, 5000};
  for (const bool adjust : {false, true}) {
    const auto ratios = lru_miss_ratios(h, sizes, adjust);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      EXPECT_EQ(ratios[i], 1.0 - simulate(keys, "lru", sizes[i]).hit_ratio()) << sizes[i];
    }
  }
}

TEST(ShardsFixedRate, SampledCurveFollowsTheExactOne) {
  const auto keys = zipf_trace(400000, 40000, 0.9, 5);
  // From 800 entries up: the sample's cache then holds 40 entries or more.
  const std::vector<std::uint64_t> sizes = {800, 1600, 3200, 6400, 25600};
  const auto exact = lru_miss_ratios(shards_fixed_rate(keys, 1.0, 0), sizes, true);
  const ReuseHistogram h = shards_fixed_rate(keys, 0.05, 0);
  EXPECT_NEAR(h.distinct_keys, 40000, 4000);
  EXPECT_NEAR(static_cast<double>(h.sampled_requests), 0.05 * 400000, 4000);
  const auto sampled = lru_miss_ratios(h, sizes, true);
  for (std::size_t i = 0; i < sizes.size(); ++i)
    EXPECT_NEAR(sampled[i], exact[i], 0.03) << sizes[i];
}

TEST(ShardsAdjust, MovesTheShortfallIntoHitsAtEverySize) {
  ReuseHistogram h;
  h.requests = 100;
  h.sampled_requests = 8;
  h.total = 80;  // the sample stands for 80 requests of the expected 100
  h.hits_at = {0, 0, 40};
  const std::vector<std::uint64_t> sizes = {1, 2};
  EXPECT_EQ(lru_miss_ratios(h, sizes, false), (std::vector<double>{1.0, 0.5}));
  EXPECT_EQ(lru_miss_ratios(h, sizes, true), (std::vector<double>{0.8, 0.4}));
  h.total = 160;  // too many: the ratio would go negative at size 1 without the clamp
  h.hits_at = {0, 10, 150};
  EXPECT_EQ(lru_miss_ratios(h, sizes, true), (std::vector<double>{1.0, 0.0}));
}

TEST(ShardsAdjust, NothingSampledMeansNoEvidenceOfHits) {
  ReuseHistogram h;
  h.requests = 1000;
  const std::vector<std::uint64_t> sizes = {1, 10};
  EXPECT_EQ(lru_miss_ratios(h, sizes, true), (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(lru_miss_ratios(h, sizes, false), (std::vector<double>{1.0, 1.0}));
}

TEST(ShardsFixedSize, WithRoomForEveryKeyItIsFixedRate) {
  const auto keys = zipf_trace(50000, 3000, 0.8, 8);
  const ReuseHistogram fixed_rate = shards_fixed_rate(keys, 0.5, 2);
  const ReuseHistogram fixed_size = shards_fixed_size(keys, 3000, 0.5, 2);
  EXPECT_EQ(fixed_size.rate, fixed_rate.rate);
  EXPECT_EQ(fixed_size.sampled_requests, fixed_rate.sampled_requests);
  EXPECT_EQ(fixed_size.hits_at, fixed_rate.hits_at);
}

TEST(ShardsFixedSize, BoundsTheKeysAndLowersTheRate) {
  const auto keys = zipf_trace(400000, 40000, 0.9, 5);
  const ReuseHistogram h = shards_fixed_size(keys, 2000, 1.0, 0);
  // 2,000 of ~40,000 keys: the rate ends near 5%, and the estimate of the keys stays close.
  EXPECT_LT(h.rate, 0.06);
  EXPECT_GT(h.rate, 0.04);
  EXPECT_NEAR(h.distinct_keys, 40000, 4000);
  EXPECT_NEAR(h.total, 400000, 40000);
  // From 800 entries up: the sample's cache then holds 40 entries or more.
  const std::vector<std::uint64_t> sizes = {800, 1600, 3200, 6400, 25600};
  const auto exact = lru_miss_ratios(shards_fixed_rate(keys, 1.0, 0), sizes, true);
  const auto sampled = lru_miss_ratios(h, sizes, true);
  for (std::size_t i = 0; i < sizes.size(); ++i)
    EXPECT_NEAR(sampled[i], exact[i], 0.03) << sizes[i];
}

TEST(ShardsFixedSize, RejectsZeroKeys) {
  const std::vector<std::int64_t> keys = {1, 2, 3};
  EXPECT_THROW((void)shards_fixed_size(keys, 0, 1.0, 0), Error);
}

// Every tier is the sample shards_fixed_rate takes: the unbounded one in full, a bounded one up
// to its largest size.
TEST(ShardsNested, TiersAreFixedRateSamplesUpToTheirBound) {
  const auto keys = zipf_trace(200000, 20000, 0.9, 8);
  const std::vector<NestedTier> tiers = {{.rate = 0.05, .max_size = 0},
                                         {.rate = 0.2, .max_size = 3000},
                                         {.rate = 0.5, .max_size = 400}};
  const auto nested = shards_nested(keys, tiers, 3, keys.size(), 0.0);
  ASSERT_EQ(nested.size(), 3U);
  for (std::size_t t = 0; t < tiers.size(); ++t) {
    const ReuseHistogram alone = shards_fixed_rate(keys, tiers[t].rate, 3);
    EXPECT_EQ(nested[t].sampled_requests, alone.sampled_requests) << t;
    const std::uint64_t bound = tiers[t].max_size == 0 ? 25000 : tiers[t].max_size;
    std::vector<std::uint64_t> sizes;
    for (std::uint64_t s = 1; s <= bound; s += 1 + s / 8) sizes.push_back(s);
    EXPECT_EQ(lru_miss_ratios(nested[t], sizes, false), lru_miss_ratios(alone, sizes, false)) << t;
  }
  EXPECT_EQ(nested[0].key_requests_at.size(), nested[0].hits_at.size());
  EXPECT_TRUE(nested[2].key_requests_at.empty());  // bounded: no regression data
}

// A sample that is the whole trace: the fit reproduces its own misses exactly.
TEST(RegressionMisses, ExactOnTheWholeTrace) {
  // Keys requested 1, 2 and 5 times, missing 1, 2 and 1 times.
  const SampleTotals t{.requests = 8,
                       .keys = 3,
                       .requests_squared = 1 + 4 + 25,
                       .population_requests = 8,
                       .population_keys = 3};
  EXPECT_NEAR(regression_misses(4, 1 * 1 + 2 * 2 + 1 * 5, t), 4.0, 1e-9);
}

// Misses that follow requests exactly (m = n, every request missing) or keys exactly (m = 1,
// only cold misses) are estimated exactly from the totals, whatever the sample's popularity.
TEST(RegressionMisses, RecoversMissesLinearInTheAuxiliaries) {
  const SampleTotals t{.requests = 10,
                       .keys = 4,
                       .requests_squared = 1 + 4 + 9 + 16,
                       .population_requests = 1000,
                       .population_keys = 300};
  EXPECT_NEAR(regression_misses(10, 30, t), 1000.0, 1e-6);  // m = n
  EXPECT_NEAR(regression_misses(4, 10, t), 300.0, 1e-6);    // m = 1
}

TEST(RegressionMisses, DegenerateFitFallsBackToTheRatio) {
  // Every sampled key requested twice: n carries no information beyond the constant.
  const SampleTotals t{.requests = 6,
                       .keys = 3,
                       .requests_squared = 12,
                       .population_requests = 600,
                       .population_keys = 300};
  EXPECT_NEAR(regression_misses(3, 6, t), 300.0, 1e-9);
  EXPECT_EQ(regression_misses(0, 0, SampleTotals{}), 0.0);
}

}  // namespace
}  // namespace stratacache::predict
