#include "store/frequency_sketch.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include "common/hash.hpp"

namespace stratacache::store {
namespace {

std::uint64_t h(std::uint64_t k) { return mix64(k); }

TEST(FrequencySketch, UnseenKeysCountZero) {
  FrequencySketch s(1024);
  for (std::uint64_t k = 0; k < 100; ++k) EXPECT_EQ(s.frequency(h(k)), 0U);
}

TEST(FrequencySketch, CountsIncrements) {
  FrequencySketch s(1024);
  for (unsigned i = 1; i <= 10; ++i) {
    s.increment(h(7));
    EXPECT_EQ(s.frequency(h(7)), i);
  }
  EXPECT_EQ(s.frequency(h(8)), 0U);
}

TEST(FrequencySketch, SaturatesAtFifteen) {
  FrequencySketch s(1024);
  for (int i = 0; i < 100; ++i) s.increment(h(1));
  EXPECT_EQ(s.frequency(h(1)), FrequencySketch::kMaxCount);
}

TEST(FrequencySketch, SaturatedIncrementsDoNotAdvanceAging) {
  FrequencySketch s(64);
  for (int i = 0; i < 15; ++i) s.increment(h(1));
  const auto before = s.size();
  for (int i = 0; i < 1000; ++i) s.increment(h(1));
  EXPECT_EQ(s.size(), before);
  EXPECT_EQ(s.frequency(h(1)), FrequencySketch::kMaxCount);
}

TEST(FrequencySketch, AgingHalvesCounts) {
  FrequencySketch s(64);
  ASSERT_EQ(s.sample_size(), 640U);
  for (int i = 0; i < 12; ++i) s.increment(h(1));
  // Distinct keys drive the sketch to its aging pass.
  std::uint64_t k = 1000;
  while (s.size() != 0 && s.size() < s.sample_size() - 1) s.increment(h(k++));
  s.increment(h(k++));
  EXPECT_LT(s.size(), s.sample_size() / 2 + 1);
  EXPECT_LE(s.frequency(h(1)), 7U);
  EXPECT_GE(s.frequency(h(1)), 6U);
}

TEST(FrequencySketch, FewCollisionsAtCapacity) {
  const std::uint64_t n = 4096;
  FrequencySketch s(n);
  for (std::uint64_t k = 0; k < n; ++k) s.increment(h(k));
  unsigned overestimated = 0;
  for (std::uint64_t k = n; k < 2 * n; ++k) overestimated += s.frequency(h(k)) > 0 ? 1 : 0;
  // Four counters out of 16 per entry must all collide; allow a generous 2%.
  EXPECT_LT(overestimated, n / 50);
}

TEST(FrequencySketch, EnsureCapacityGrowsAndForgets) {
  FrequencySketch s(16);
  s.increment(h(3));
  s.ensure_capacity(8);  // smaller: no change
  EXPECT_EQ(s.frequency(h(3)), 1U);
  EXPECT_EQ(s.capacity(), 16U);
  s.ensure_capacity(1000);
  EXPECT_EQ(s.capacity(), 1000U);
  EXPECT_EQ(s.sample_size(), 10000U);
  EXPECT_EQ(s.frequency(h(3)), 0U);
}

TEST(FrequencySketch, ClearForgets) {
  FrequencySketch s(16);
  for (int i = 0; i < 5; ++i) s.increment(h(3));
  s.clear();
  EXPECT_EQ(s.frequency(h(3)), 0U);
  EXPECT_EQ(s.size(), 0U);
}

TEST(FrequencySketch, HashesSharingHighBitsStillSpread) {
  // A shard sees hashes with equal top bits; they must not pile into one block.
  FrequencySketch s(4096);
  const std::uint64_t top = 0xabcULL << 52;
  for (std::uint64_t k = 0; k < 4096; ++k) s.increment(top | k);
  unsigned overestimated = 0;
  for (std::uint64_t k = 4096; k < 8192; ++k) overestimated += s.frequency(top | k) > 0 ? 1 : 0;
  EXPECT_LT(overestimated, 4096U / 50);
}

TEST(FrequencySketch, CounterLayoutIsPinned) {
  // Which counters a hash maps to decides every admission, so any change to the layout changes
  // hit ratios; it must be deliberate. Heavy collisions (8 words, 300 keys) and many aging
  // passes make the estimates depend on every counter position.
  FrequencySketch s(8);
  std::uint64_t estimates = 0;
  for (std::uint64_t k = 0; k < 300; ++k) {
    for (std::uint64_t r = 0; r <= k % 3; ++r) s.increment(h(k));
    estimates = estimates * 31 + s.frequency(h(k / 2));
  }
  EXPECT_EQ(estimates, 7046086905717162214ULL);
}

}  // namespace
}  // namespace stratacache::store
