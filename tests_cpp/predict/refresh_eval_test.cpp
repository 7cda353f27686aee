#include "predict/refresh_eval.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

const RefreshPoint& point(const std::vector<RefreshPoint>& ps, const std::string& method,
                          double parameter = 0) {
  const auto it = std::find_if(ps.begin(), ps.end(), [&](const RefreshPoint& p) {
    return p.method == method && p.parameter == parameter;
  });
  EXPECT_NE(it, ps.end()) << method << " " << parameter;
  return *it;
}

TimedWorkload every_100s(int reads) {
  TimedWorkload w;
  for (int i = 0; i < reads; ++i) w.events.push_back({100.0 * i, 1, Op::kGet, 0});
  w.keys = 1;
  w.duration = 100.0 * reads;
  return w;
}

TEST(RefreshEval, HandmadeTimelineOfEachMethod) {
  RefreshOptions o;
  o.ttl = 60;
  o.margin = 5;
  o.windows = {1};
  const auto ps = evaluate_refresh(every_100s(10), o);
  const auto& none = point(ps, "none");
  EXPECT_EQ(none.gets, 10U);
  EXPECT_EQ(none.misses, 10U);
  EXPECT_EQ(none.refreshes, 0U);
  // Read in the last 60 s at 55 (read at 0) and at 110 (read at 100), not at 165: every other
  // read hits, for two refreshes each (the last one's second is due after the last event).
  const auto& window = point(ps, "read_in_window", 1);
  EXPECT_EQ(window.misses, 5U);
  EXPECT_EQ(window.refreshes, 9U);
  // The oracle refreshes only at 55 (read at 100 <= 115), never at 110.
  const auto& oracle = point(ps, "oracle");
  EXPECT_EQ(oracle.misses, 5U);
  EXPECT_EQ(oracle.refreshes, 5U);
  EXPECT_EQ(oracle.loader_calls(), 10U);
}

TEST(RefreshEval, WritesRenewWithoutLoaderCalls) {
  TimedWorkload w = every_100s(3);
  w.events.insert(w.events.begin() + 1, {50, 1, Op::kSet, 0});
  w.events.insert(w.events.begin() + 3, {150, 1, Op::kSet, 0});
  RefreshOptions o;
  o.ttl = 60;
  const auto none = evaluate_refresh(w, o).front();
  EXPECT_EQ(none.gets, 3U);
  EXPECT_EQ(none.misses, 1U);  // 100 and 200 find the written values
}

TEST(RefreshEval, WarmupExcludesEarlyEvents) {
  RefreshOptions o;
  o.ttl = 60;
  o.warmup = 450;
  const auto none = evaluate_refresh(every_100s(10), o).front();
  EXPECT_EQ(none.gets, 5U);
  EXPECT_EQ(none.misses, 5U);
}

TEST(RefreshEval, SweepsMoveAlongTheTradeOff) {
  WorkloadOptions wo;
  wo.kind = "periodic";
  wo.keys = 200;
  wo.duration = 20'000;
  wo.period_min = 20;
  wo.period_max = 2000;
  const TimedWorkload w = make_workload(wo);
  RefreshOptions o;
  o.ttl = 200;
  o.warmup = 5000;
  o.xfetch_betas = {1, 1000};
  o.windows = {0.25, 4};
  o.thresholds = {0, 0.5, 1.01};
  o.predictor.features.half_life_short = 100;
  o.predictor.features.half_life_long = 2000;
  const auto ps = evaluate_refresh(w, o);
  EXPECT_EQ(ps.size(), 1U + 2 + 2 + 3 + 1);
  const auto& none = point(ps, "none");
  for (const RefreshPoint& p : ps) EXPECT_EQ(p.gets, none.gets) << p.method;
  // More eager settings refresh more and miss less.
  EXPECT_LT(point(ps, "xfetch", 1000).misses, point(ps, "xfetch", 1).misses);
  EXPECT_GT(point(ps, "xfetch", 1000).refreshes, point(ps, "xfetch", 1).refreshes);
  EXPECT_LT(point(ps, "read_in_window", 4).misses, point(ps, "read_in_window", 0.25).misses);
  // Threshold 0 refreshes at every decision, above 1 never: that is "none".
  EXPECT_EQ(point(ps, "predictor", 1.01).misses, none.misses);
  EXPECT_EQ(point(ps, "predictor", 1.01).refreshes, 0U);
  const auto& always = point(ps, "predictor", 0);
  const auto& half = point(ps, "predictor", 0.5);
  EXPECT_LT(always.misses, half.misses);
  EXPECT_LT(half.misses, none.misses);
  EXPECT_LT(half.refreshes, always.refreshes);
}

TEST(RefreshEval, RejectsBadOptions) {
  const TimedWorkload w = every_100s(2);
  RefreshOptions o;
  o.ttl = 0;
  EXPECT_THROW((void)evaluate_refresh(w, o), Error);
  o.ttl = 10;
  o.margin = 10;
  EXPECT_THROW((void)evaluate_refresh(w, o), Error);
  o.margin = 1;
  o.xfetch_betas = {-1};
  EXPECT_THROW((void)evaluate_refresh(w, o), Error);
}

}  // namespace
}  // namespace stratacache::predict
