#include "predict/live_predictor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "store/access_recorder.hpp"

namespace stratacache::predict {
namespace {

constexpr Nanos kSecond = 1'000'000'000;

PredictorOptions fast_options() {
  PredictorOptions o;
  o.horizon = 1;
  o.sample_rate = 1;
  o.features.capacity = 64;
  return o;
}

// Writes one sampled access as the store does: the record, then the name.
void access(store::AccessRecorder& r, std::uint64_t hash, std::string_view prefix,
            std::string_view body, store::AccessOp op, Nanos t) {
  r.record(hash, store::namespace_hash(prefix), op, t);
  r.names()->remember(hash, prefix, body);
}

TEST(LivePredictor, FeedsNewRecordsOnceAndCountsThem) {
  ManualClock clock(kSecond);
  store::AccessRecorder recorder(1.0, 1024);
  recorder.record(99, 0, store::AccessOp::kGetHit, kSecond);  // before the model: not fed
  LivePredictor live(fast_options(), recorder, clock);
  for (std::uint64_t k = 1; k <= 3; ++k) {
    access(recorder, k, "a\x1f", "k" + std::to_string(k), store::AccessOp::kGetHit, kSecond);
  }
  EXPECT_EQ(live.drain(), 3u);
  EXPECT_EQ(live.drain(), 0u);
  const LiveStats s = live.stats();
  EXPECT_EQ(s.fed, 3u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.tracked, 3u);
  EXPECT_EQ(s.names, 3u);
}

TEST(LivePredictor, CountsRecordsTheRingLostBeforeADrain) {
  ManualClock clock(kSecond);
  store::AccessRecorder recorder(1.0, 4);
  LivePredictor live(fast_options(), recorder, clock);
  for (std::uint64_t k = 0; k < 10; ++k) {
    recorder.record(k, 0, store::AccessOp::kSet, kSecond);
  }
  EXPECT_EQ(live.drain(), 4u);
  EXPECT_EQ(live.stats().lost, 6u);
}

TEST(LivePredictor, HotKeysKeepToTheirNamespaceAndCarryNames) {
  ManualClock clock(kSecond);
  store::AccessRecorder recorder(1.0, 1024);
  LivePredictor live(fast_options(), recorder, clock);
  access(recorder, 1, "a\x1f", "mine", store::AccessOp::kGetMiss, kSecond);
  access(recorder, 2, "b\x1f", "theirs", store::AccessOp::kGetHit, kSecond);
  live.drain();
  const auto a = live.hot_keys(10, store::namespace_hash("a\x1f"));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].name.substr(a[0].prefix_size), "mine");
  EXPECT_EQ(live.hot_keys(10, std::nullopt).size(), 2u);
  EXPECT_TRUE(live.hot_keys(10, store::namespace_hash("nobody\x1f")).empty());
}

// With the model untrained every key scores P = 0.5, so only the expected reads tell keys
// apart: the key read every 0.1 s ranks above the one read about once a second, although the
// latter was seen last (the tie-break of equal scores).
TEST(LivePredictor, HotKeysRankByExpectedReads) {
  ManualClock clock(kSecond);
  store::AccessRecorder recorder(1.0, 1024);
  LivePredictor live(fast_options(), recorder, clock);
  std::vector<std::pair<Nanos, std::uint64_t>> reads = {
      {kSecond / 2, 2}, {3 * kSecond / 2, 2}, {2 * kSecond, 2}};
  for (int i = 0; i < 10; ++i) reads.emplace_back(kSecond + i * kSecond / 10, 1);
  std::sort(reads.begin(), reads.end());
  for (const auto& [t, key] : reads) {
    access(recorder, key, "", key == 1 ? "often" : "seldom", store::AccessOp::kGetHit, t);
  }
  live.drain();
  const auto hot = live.hot_keys(2, std::nullopt);
  ASSERT_EQ(hot.size(), 2u);
  EXPECT_DOUBLE_EQ(hot[0].probability, hot[1].probability);
  EXPECT_EQ(hot[0].name, "often");
  EXPECT_EQ(hot[1].name, "seldom");
}

TEST(LivePredictor, RecentKeysAreTheLastReadOnesMostRecentFirst) {
  ManualClock clock(kSecond);
  store::AccessRecorder recorder(1.0, 1024);
  LivePredictor live(fast_options(), recorder, clock);
  // In time order: the drain makes record times non-decreasing.
  access(recorder, 1, "a\x1f", "old", store::AccessOp::kGetHit, kSecond);
  access(recorder, 4, "b\x1f", "other", store::AccessOp::kGetHit, 2 * kSecond);
  access(recorder, 2, "a\x1f", "new", store::AccessOp::kGetMiss, 3 * kSecond);
  access(recorder, 3, "a\x1f", "written", store::AccessOp::kSet, 4 * kSecond);  // never read
  access(recorder, 1, "a\x1f", "old", store::AccessOp::kSet, 5 * kSecond);      // not a read
  clock.set(6 * kSecond);
  live.drain();
  const auto a = live.recent_keys(10, store::namespace_hash("a\x1f"));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].name.substr(a[0].prefix_size), "new");
  EXPECT_EQ(a[1].name.substr(a[1].prefix_size), "old");
  EXPECT_NEAR(a[0].age, 3.0, 1e-9);
  EXPECT_NEAR(a[1].age, 5.0, 1e-9);
  const auto all = live.recent_keys(2, std::nullopt);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].name.substr(all[1].prefix_size), "other");
  EXPECT_TRUE(live.recent_keys(10, store::namespace_hash("nobody\x1f")).empty());
}

TEST(LivePredictor, NamesFollowTheTrackedKeys) {
  ManualClock clock(kSecond);
  store::AccessRecorder recorder(1.0, 4096);
  PredictorOptions o = fast_options();
  o.features.capacity = 8;
  LivePredictor live(o, recorder, clock);
  for (std::uint64_t k = 0; k < 100; ++k) {
    access(recorder, k, "", "k" + std::to_string(k), store::AccessOp::kGetHit,
           kSecond + static_cast<Nanos>(k));
  }
  live.drain();
  const LiveStats s = live.stats();
  EXPECT_EQ(s.tracked, 8u);
  EXPECT_LE(s.names, 8u);  // trimmed to the tracked keys
}

TEST(LivePredictor, CountsTheTrueBytesOfModelAndNames) {
  ManualClock clock(kSecond);
  store::AccessRecorder recorder(1.0, 1 << 14);
  PredictorOptions o;
  o.features.capacity = 10'000;
  LivePredictor live(o, recorder, clock);
  for (std::uint64_t k = 0; k < 10'000; ++k) {
    access(recorder, k * 0x9E3779B97F4A7C15ULL, "", "user:" + std::to_string(10'000'000 + k),
           store::AccessOp::kGetMiss, kSecond);
  }
  EXPECT_EQ(live.drain(), 10'000U);
  const LiveStats s = live.stats();
  EXPECT_EQ(s.names, 10'000U);
  // 56-byte slots, a 16k-entry index (13.1 B a key), ~1000 pending observations of 64 bytes,
  // the 256-row training batch; no drain buffer (released).
  const double observed = static_cast<double>(s.observed);
  const double expected = 56 + 16'384 * 8 / 1e4 + observed * 64 / 1e4 + 256 * 12 * 8 / 1e4;
  EXPECT_NEAR(s.model_bytes_per_key, expected, 1.0);
  // 13-byte names in 15-byte records, in 16 KiB chunks: 10 of them.
  EXPECT_NEAR(s.name_bytes_per_key, 10 * 16'384 / 1e4, 0.1);
}

}  // namespace
}  // namespace stratacache::predict
