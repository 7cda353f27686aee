#include "predict/ttl_eval.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

TEST(TtlEval, ReplayCountsHitsAndStaleReads) {
  std::vector<Event> events;
  for (int t = 0; t <= 50; t += 10) events.push_back({double(t), 1, Op::kGet, 0});
  events.insert(events.begin() + 2, {15, 1, Op::kSet, 0});
  // ttl 25: 0 miss, 10 hit, 20 hit but stale (written at 15), 30 miss, 40 hit, 50 hit... 50 is
  // 20 s after the load at 30: a hit.
  const TtlOutcome r = replay_ttl(events, 25);
  EXPECT_EQ(r.reads, 6U);
  EXPECT_NEAR(r.hit_ratio, 4.0 / 6, 1e-12);
  EXPECT_NEAR(r.stale_fraction, 1.0 / 6, 1e-12);
  EXPECT_EQ(replay_ttl(events, 25, 25).reads, 3U);
}

TEST(TtlEval, RecommendationFollowsTheBudget) {
  FeatureTable table({.capacity = 100});
  // Key 1: read every second and written every 100 s over 1000 s; key 2 never written.
  for (int t = 0; t < 1000; ++t) {
    table.record({double(t), 1, Op::kGet, 0});
    if (t % 100 == 50) table.record({t + 0.5, 1, Op::kSet, 0});
  }
  const auto tight = recommend_ttl(table, 0, 1000, 0.01);
  const auto loose = recommend_ttl(table, 0, 1000, 0.1);
  EXPECT_LT(tight.ttl, loose.ttl);
  EXPECT_NEAR(tight.predicted_stale_fraction, 0.01, 1e-6);
  // r = 1/s, u = 0.01/s: stale fraction about (u T^2 / 2) / (1 + T) = 0.01, so T^2 = 2 (1 + T).
  EXPECT_NEAR(tight.ttl, 1 + std::sqrt(3.0), 0.05);
  EXPECT_EQ(tight.keys, 1U);
  FeatureTable unwritten({.capacity = 10});
  unwritten.record({0, 2, Op::kGet, 0});
  EXPECT_EQ(recommend_ttl(unwritten, 0, 10, 0.01, 1, 500).ttl, 500);
  EXPECT_THROW((void)recommend_ttl(table, 0, 1000, 1.5), Error);
  EXPECT_THROW((void)recommend_ttl(table, 0, 0, 0.1), Error);
}

TEST(TtlEval, PoissonNamespacesLandNearTheGridOptimum) {
  WorkloadOptions a;
  a.kind = "diurnal";  // amplitude 0: Poisson reads with Zipf popularity
  a.amplitude = 0;
  a.keys = 200;
  a.rate = 20;
  a.duration = 4000;
  a.update_interval = 300;
  WorkloadOptions b = a;
  b.ns = 1;
  b.update_interval = 3000;
  b.seed = 2;
  const TimedWorkload w = merge_workloads({make_workload(a), make_workload(b)});
  const std::vector<double> grid = {1, 2, 5, 10, 20, 50, 100, 200, 500};
  const auto reports = evaluate_ttl(w, 0.02, grid);
  ASSERT_EQ(reports.size(), 2U);
  for (const TtlReport& r : reports) {
    EXPECT_EQ(r.grid.size(), grid.size());
    EXPECT_LE(r.best.stale_fraction, 0.02);
    EXPECT_LT(r.at_recommended.stale_fraction, 0.03) << r.ns;
    EXPECT_GT(r.at_recommended.hit_ratio, r.best.hit_ratio - 0.05) << r.ns;
  }
  // Rarer writes allow a longer TTL.
  EXPECT_GT(reports[1].recommendation.ttl, reports[0].recommendation.ttl);
  EXPECT_THROW((void)evaluate_ttl(w, 0.02, {}), Error);
  EXPECT_THROW((void)evaluate_ttl(w, 0.02, grid, 1), Error);
}

}  // namespace
}  // namespace stratacache::predict
