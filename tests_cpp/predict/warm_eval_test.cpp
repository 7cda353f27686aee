#include "predict/warm_eval.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

// 50 hot keys read in turn every second until 1200 s; a scan of 100 cold keys, once each,
// from 1000.5 to 1099.5 s. The restart comes at 1100, right after the scan.
TimedWorkload scan_before_restart() {
  TimedWorkload w;
  for (int t = 0; t < 1200; ++t) {
    w.events.push_back({double(t), t % 50, Op::kGet, 0});
    if (t >= 1000 && t < 1100) w.events.push_back({t + 0.5, 1000 + t, Op::kGet, 0});
  }
  w.keys = 150;
  w.duration = 1200;
  return w;
}

std::map<std::string, WarmResult> by_method(const std::vector<WarmResult>& rs) {
  std::map<std::string, WarmResult> out;
  for (const auto& r : rs) out[r.method] = r;
  return out;
}

TEST(WarmEval, FrequencyBeatsRecencyAfterAScan) {
  WarmOptions o;
  o.restart_at = 1100;
  o.warm_keys = 50;
  o.window_reads = 400;  // 200 s: each hot key 4 times, each scanned key once
  o.predictor.sample_rate = 0.5;
  auto r = by_method(evaluate_warming(scan_before_restart(), o));
  ASSERT_EQ(r.size(), 5U);
  EXPECT_EQ(r["cold"].hits, 0U);  // the 50 measured reads are 50 distinct keys
  EXPECT_EQ(r["cold"].reads, 50U);
  EXPECT_EQ(r["most_frequent"].hits, 50U);
  EXPECT_EQ(r["oracle"].hits, 50U);
  EXPECT_LT(r["most_recent"].hits, 50U);  // half of the last distinct keys were scanned
  EXPECT_EQ(r["predictor"].preloaded, 50U);
  for (const auto& [name, result] : r) EXPECT_LE(result.hits, r["oracle"].hits) << name;
}

TEST(WarmEval, DefaultsAndValidation) {
  WarmOptions o;
  o.restart_at = 1100;
  o.warm_keys = 10;
  auto r = by_method(evaluate_warming(scan_before_restart(), o));
  EXPECT_EQ(r["cold"].reads, 10U);
  EXPECT_EQ(r["most_recent"].preloaded, 10U);
  o.warm_keys = 0;
  EXPECT_THROW((void)evaluate_warming(scan_before_restart(), o), Error);
  o.warm_keys = 10;
  o.capacity = 5;
  EXPECT_THROW((void)evaluate_warming(scan_before_restart(), o), Error);
  o.capacity = 0;
  o.restart_at = 5000;
  EXPECT_THROW((void)evaluate_warming(scan_before_restart(), o), Error);
}

}  // namespace
}  // namespace stratacache::predict
