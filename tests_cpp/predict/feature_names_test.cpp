// FeatureTable's storage: the names it keeps for tracked keys, its clock ticks and its bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "predict/features.hpp"

namespace stratacache::predict {
namespace {

Event get(std::int64_t key, double t) { return {t, key, Op::kGet, 0}; }

store::NameView name_of(const std::string& full, std::uint32_t prefix) { return {full, prefix}; }

TEST(FeatureTableNames, KeepsANameOnlyForATrackedKeyAndOnlyOnce) {
  FeatureTable table({.capacity = 2});
  EXPECT_FALSE(table.set_name(1, name_of("ns:a", 3)));  // untracked
  table.record(get(1, 0));
  EXPECT_TRUE(table.set_name(1, name_of("ns:a", 3)));
  EXPECT_FALSE(table.set_name(1, name_of("ns:b", 3)));  // named already
  ASSERT_TRUE(table.name(1).has_value());
  EXPECT_EQ(table.name(1)->full, "ns:a");
  EXPECT_EQ(table.name(1)->prefix_size, 3U);
  EXPECT_EQ(table.named(), 1U);
  table.record(get(2, 1));
  table.record(get(3, 2));  // 1 leaves, and its name with it
  EXPECT_FALSE(table.name(1).has_value());
  EXPECT_EQ(table.named(), 0U);
}

TEST(FeatureTableNames, NamesSurviveTheArenasCompaction) {
  FeatureTable table({.capacity = 1000});
  for (int k = 0; k < 20'000; ++k) {
    table.record(get(k, k));
    ASSERT_TRUE(table.set_name(k, name_of("p:" + std::to_string(k), 2)));
  }
  EXPECT_EQ(table.named(), 1000U);
  for (int k = 19'000; k < 20'000; ++k) {
    ASSERT_EQ(table.name(k)->full, "p:" + std::to_string(k)) << k;
  }
  // 19,000 names released over the run: compaction kept the arena near its live size.
  EXPECT_LE(table.name_bytes(), 4 * store::NameArena::kChunk);
}

TEST(FeatureTableTicks, TimesAcrossRebasesKeepTheirGaps) {
  FeatureTable table({.capacity = 4, .half_life_short = 10, .half_life_long = 100});
  const double gap = 10 * 86'400.0;  // Unix-like times; 60 days pass 2^32 ms
  for (int i = 0; i < 7; ++i) {
    table.record(get(1, 1.7e9 + i * gap));
    table.record(get(2, 1.7e9 + i * gap + 0.25));
  }
  const double now = 1.7e9 + 6 * gap + 10;
  const auto f = table.features(1, now);
  EXPECT_NEAR(f[3], std::log(gap), 1e-5);   // log_gap_mean
  EXPECT_NEAR(f[4], 0, 1e-3);               // log_gap_std: no gap was cut short
  EXPECT_NEAR(f[0], std::log1p(10), 1e-6);  // log_recency, to the millisecond
  EXPECT_NEAR(table.features(2, now)[0], std::log1p(9.75), 1e-6);
  EXPECT_TRUE(table.read_after(2, now - 10));
  EXPECT_FALSE(table.read_after(2, now - 9.75));  // read at that very time: not after it
}

TEST(FeatureTableBytes, AFullTableCountsItsTrueCapacity) {
  FeatureTable table({.capacity = 10'000});
  for (int k = 0; k < 10'000; ++k) table.record(get(k, k));
  // 56-byte slots, exactly 10k of them, and a 16k-entry index of 8 bytes.
  EXPECT_EQ(table.bytes(), 10'000 * sizeof(KeyStats) + 16'384 * 8);
  EXPECT_NEAR(table.bytes_per_key(), 56 + 13.1, 0.1);
}

}  // namespace
}  // namespace stratacache::predict
