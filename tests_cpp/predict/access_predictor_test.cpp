#include "predict/access_predictor.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

// Key 1 is read every 10 s, key 2 every 500 s; a horizon of 60 s separates them.
std::vector<Event> two_rates(double until) {
  std::vector<Event> events;
  for (double t = 0; t < until; t += 10) events.push_back({t, 1, Op::kGet, 0});
  for (double t = 5; t < until; t += 500) events.push_back({t, 2, Op::kGet, 0});
  std::sort(events.begin(), events.end(), [](auto& a, auto& b) { return a.time < b.time; });
  return events;
}

PredictorOptions options() {
  PredictorOptions o;
  o.horizon = 60;
  o.sample_rate = 1;
  o.batch_size = 16;
  o.features.half_life_short = 30;
  o.features.half_life_long = 600;
  return o;
}

TEST(AccessPredictor, LabelsOnlyOnceTheHorizonHasPassed) {
  AccessPredictor p(options());
  p.record({0, 1, Op::kGet, 0});
  p.record({30, 1, Op::kGet, 0});
  p.advance(60);  // the observation at 0 is due only after 60
  EXPECT_EQ(p.stats().observed, 2U);
  EXPECT_EQ(p.stats().trained + p.stats().positives, 0U);
  p.observe(7, 61);  // a never-read key
  for (int i = 0; i < 13; ++i) p.observe(7, 62 + i);
  p.advance(1000);  // 16 due: read again (1), not read (the rest)
  EXPECT_EQ(p.stats().trained, 16U);
  EXPECT_EQ(p.stats().positives, 1U);
}

TEST(AccessPredictor, SeparatesFrequentFromRareKeys) {
  AccessPredictor p(options());
  for (const Event& e : two_rates(19'706)) p.record(e);
  EXPECT_GT(p.stats().trained, 1000U);
  const double now = 19'705;  // key 1 idle for 5 s, key 2 for 200 s (next read at 20'005)
  EXPECT_GT(p.probability(1, now), 0.8);
  EXPECT_LT(p.probability(2, now), 0.3);
  EXPECT_EQ(p.top_keys(1, now), std::vector<std::int64_t>{1});
  EXPECT_EQ(p.top_keys(5, now).size(), 2U);
  const Eigen::VectorXd both = p.probabilities(std::vector<std::int64_t>{1, 2}, now);
  EXPECT_DOUBLE_EQ(both(0), p.probability(1, now));
  EXPECT_NEAR(*p.expected_next_read(1, now), 5, 1e-6);
}

TEST(AccessPredictor, BoundsItsQueue) {
  auto o = options();
  o.pending_capacity = 5;
  AccessPredictor p(o);
  for (int i = 0; i < 20; ++i) p.observe(i, i * 0.1);
  EXPECT_EQ(p.stats().observed, 5U);
  EXPECT_EQ(p.stats().dropped, 15U);
}

TEST(AccessPredictor, RejectsBadOptions) {
  auto o = options();
  o.horizon = 0;
  EXPECT_THROW(AccessPredictor{o}, Error);
  o = options();
  o.sample_rate = 2;
  EXPECT_THROW(AccessPredictor{o}, Error);
  o = options();
  o.batch_size = 0;
  EXPECT_THROW(AccessPredictor{o}, Error);
}

}  // namespace
}  // namespace stratacache::predict
