#include "predict/stack_distance.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace stratacache::predict {
namespace {

constexpr std::uint64_t kCold = StackDistances::kCold;

std::uint64_t access(StackDistances& s, std::int64_t key) {
  return s.access(key, KeyMap::hash_of(key));
}

// Distinct keys since the previous request of history.back(), by scanning backwards.
std::uint64_t brute_force(const std::vector<std::int64_t>& history) {
  const std::int64_t key = history.back();
  std::set<std::int64_t> between;
  for (std::size_t i = history.size() - 1; i-- > 0;) {
    if (history[i] == key) return between.size();
    between.insert(history[i]);
  }
  return kCold;
}

TEST(StackDistances, HandmadeSequence) {
  StackDistances s;
  // 1 2 3 1 4 2 1 1: the second 1 saw {2, 3}, the second 2 saw {3, 1, 4}.
  const std::vector<std::int64_t> keys = {1, 2, 3, 1, 4, 2, 1, 1};
  const std::vector<std::uint64_t> expected = {kCold, kCold, kCold, 2, kCold, 3, 2, 0};
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(access(s, keys[i]), expected[i]) << i;
  EXPECT_EQ(s.size(), 4U);
}

TEST(StackDistances, MatchesBruteForceAcrossCompactions) {
  // A small initial capacity and few keys: timestamps run out and are compacted many times.
  std::mt19937_64 rng(7);
  StackDistances s(4);
  std::vector<std::int64_t> history;
  for (int i = 0; i < 20000; ++i) {
    const auto key = static_cast<std::int64_t>(rng() % 97) - 40;
    history.push_back(key);
    ASSERT_EQ(access(s, key), brute_force(history)) << "request " << i;
  }
}

TEST(StackDistances, GrowsWithManyLiveKeys) {
  StackDistances s(4);
  for (std::int64_t k = 0; k < 5000; ++k) EXPECT_EQ(access(s, k), kCold);
  EXPECT_EQ(access(s, 0), 4999U);
  EXPECT_EQ(access(s, 4999), 1U);
  EXPECT_EQ(s.size(), 5000U);
}

TEST(StackDistances, ForgottenKeysAreColdAndNoLongerCounted) {
  StackDistances s;
  for (const std::int64_t k : {1, 2, 3, 4}) (void)access(s, k);
  s.forget(2, KeyMap::hash_of(2));
  s.forget(99, KeyMap::hash_of(99));  // unknown: no-op
  EXPECT_EQ(s.size(), 3U);
  EXPECT_EQ(access(s, 1), 2U);  // {3, 4}: 2 is gone
  EXPECT_EQ(access(s, 2), kCold);
  EXPECT_EQ(access(s, 3), 3U);  // {4, 1, 2}
}

TEST(StackDistances, ForgetAndReuseIdsAcrossCompactions) {
  std::mt19937_64 rng(11);
  StackDistances s(4);
  std::vector<std::int64_t> history;  // requests since the last forget of each key are kept
  for (int i = 0; i < 5000; ++i) {
    const auto key = static_cast<std::int64_t>(rng() % 50);
    if (rng() % 10 == 0) {
      s.forget(key, KeyMap::hash_of(key));
      std::erase(history, key);
      continue;
    }
    history.push_back(key);
    ASSERT_EQ(access(s, key), brute_force(history)) << "request " << i;
  }
}

// Kept at `depth` keys by forget_oldest, a stack is exact below depth and cold at or above it.
TEST(StackDistances, ForgetOldestBoundsTheStackToTheRecentKeys) {
  std::mt19937_64 rng(13);
  constexpr std::size_t kDepth = 20;
  StackDistances s(4);
  std::vector<std::int64_t> history;
  for (int i = 0; i < 20000; ++i) {
    const auto key = static_cast<std::int64_t>(rng() % 60);
    history.push_back(key);
    const std::uint64_t exact = brute_force(history);
    const std::uint64_t expected = exact != kCold && exact < kDepth ? exact : kCold;
    ASSERT_EQ(access(s, key), expected) << "request " << i;
    if (s.size() > kDepth) s.forget_oldest();
    ASSERT_LE(s.size(), kDepth);
  }
  StackDistances empty;
  empty.forget_oldest();  // no-op
  EXPECT_EQ(empty.size(), 0U);
}

}  // namespace
}  // namespace stratacache::predict
