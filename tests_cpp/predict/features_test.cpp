#include "predict/features.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

std::size_t column(std::string_view name) {
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    if (kFeatureNames[i] == name) return i;
  }
  ADD_FAILURE() << name;
  return 0;
}

Event get(std::int64_t key, double t) { return {t, key, Op::kGet, 0}; }
Event put(std::int64_t key, double t) { return {t, key, Op::kSet, 0}; }

TEST(FeatureTable, RegularReadsGiveTheirLogGapAndNoSpread) {
  FeatureTable table({.capacity = 10, .half_life_short = 10, .half_life_long = 100});
  for (int i = 0; i < 6; ++i) table.record(get(1, 20.0 * i));
  const auto f = table.features(1, 110);
  EXPECT_NEAR(f[column("log_gap_mean")], std::log(20), 1e-6);  // float32 statistics
  EXPECT_NEAR(f[column("log_gap_std")], 0, 1e-6);
  EXPECT_EQ(f[column("has_gaps")], 1);
  EXPECT_NEAR(f[column("log_recency")], std::log1p(10), 1e-12);
  EXPECT_NEAR(f[column("log_reads")], std::log1p(6), 1e-12);
  // Idle for half a gap: the key is early, not overdue.
  EXPECT_LT(f[column("overdue")], 0);
  EXPECT_GT(table.features(1, 300)[column("overdue")], 0);
  // Next read due in 10 s; once overdue by 90 s, expected as long again.
  EXPECT_NEAR(*table.expected_next_read(1, 110), 10, 1e-4);
  EXPECT_NEAR(*table.expected_next_read(1, 300), 200, 1e-4);
}

TEST(FeatureTable, DecayedFrequenciesHalveAtTheirHalfLives) {
  FeatureTable table({.capacity = 10, .half_life_short = 10, .half_life_long = 100});
  table.record(get(1, 0));
  table.record(get(1, 0));  // two reads at once: decayed counts are 2
  const auto f = table.features(1, 10);
  EXPECT_NEAR(f[column("log_freq_short")], std::log1p(1.0), 1e-6);
  EXPECT_NEAR(f[column("log_freq_long")], std::log1p(2 * std::exp2(-0.1)), 1e-6);
}

TEST(FeatureTable, WritesAndExpiryShowUp) {
  FeatureTable table({.capacity = 10});
  table.record(get(5, 0));
  table.record(put(5, 30));
  table.set_expiry(5, 100);
  const auto f = table.features(5, 40);
  EXPECT_NEAR(f[column("log_since_write")], std::log1p(10), 1e-12);
  EXPECT_NEAR(f[column("log_ttl_left")], std::log1p(60), 1e-12);
  EXPECT_EQ(table.find(5)->writes, 1U);
  EXPECT_EQ(table.features(5, 200)[column("log_ttl_left")], 0);
}

TEST(FeatureTable, EvictsTheLeastRecentlySeenKey) {
  FeatureTable table({.capacity = 3});
  table.record(get(1, 0));
  table.record(get(2, 1));
  table.record(get(3, 2));
  table.record(put(1, 3));  // a write counts as seen
  table.record(get(4, 4));  // 2 goes
  EXPECT_EQ(table.size(), 3U);
  EXPECT_EQ(table.find(2), nullptr);
  EXPECT_NE(table.find(1), nullptr);
  EXPECT_EQ(table.keys(), (std::vector<std::int64_t>{3, 1, 4}));
  for (int k = 10; k < 1000; ++k) table.record(get(k, k));
  EXPECT_EQ(table.size(), 3U);
  EXPECT_EQ(table.keys(), (std::vector<std::int64_t>{997, 998, 999}));
  EXPECT_GT(table.bytes_per_key(), sizeof(KeyStats));
}

TEST(FeatureTable, UnseenKeysLookIdleAndUnknown) {
  FeatureTable table({.capacity = 4, .half_life_long = 100});
  const auto f = table.features(42, 1000);
  EXPECT_NEAR(f[column("log_recency")], std::log1p(100), 1e-12);
  EXPECT_EQ(f[column("log_reads")], 0);
  EXPECT_EQ(f[column("has_gaps")], 0);
  EXPECT_FALSE(table.expected_next_read(42, 1000).has_value());
}

TEST(FeatureTable, NamespaceAggregateIsPerKeyRate) {
  FeatureTable table({.capacity = 10, .half_life_long = 1e9, .namespace_aggregate = true});
  for (int i = 0; i < 8; ++i) table.record({double(i), i % 2, Op::kGet, 3});
  table.record({8, 100, Op::kGet, 4});
  // Namespace 3: 8 reads over 2 keys; namespace 4: 1 read over 1 key.
  EXPECT_NEAR(table.features(0, 8)[column("log_namespace_rate")], std::log1p(4), 1e-6);
  EXPECT_NEAR(table.features(100, 8)[column("log_namespace_rate")], std::log1p(1), 1e-6);
}

TEST(FeatureTable, RejectsBadOptions) {
  EXPECT_THROW(FeatureTable({.capacity = 0}), Error);
  EXPECT_THROW(FeatureTable({.capacity = 4, .half_life_short = 0}), Error);
  EXPECT_THROW(FeatureTable({.capacity = 4, .half_life_long = std::nan("")}), Error);
}

}  // namespace
}  // namespace stratacache::predict
