#include "store/ghost_queue.hpp"

#include <gtest/gtest.h>

#include "common/hash.hpp"

namespace stratacache::store {
namespace {

TEST(GhostQueue, RemembersTheMostRecentHashes) {
  GhostQueue g;
  for (std::uint64_t k = 0; k < 100; ++k) g.push(mix64(k), 10);
  EXPECT_EQ(g.size(), 10U);
  for (std::uint64_t k = 0; k < 90; ++k) EXPECT_FALSE(g.contains(mix64(k))) << k;
  for (std::uint64_t k = 90; k < 100; ++k) EXPECT_TRUE(g.contains(mix64(k))) << k;
}

TEST(GhostQueue, TakeForgets) {
  GhostQueue g;
  g.push(mix64(1), 4);
  g.push(mix64(2), 4);
  EXPECT_TRUE(g.take(mix64(1)));
  EXPECT_FALSE(g.take(mix64(1)));
  EXPECT_FALSE(g.contains(mix64(1)));
  EXPECT_TRUE(g.contains(mix64(2)));
  EXPECT_EQ(g.size(), 1U);
}

TEST(GhostQueue, TakenHashesDoNotCountAgainstCapacity) {
  GhostQueue g;
  for (std::uint64_t k = 0; k < 4; ++k) g.push(mix64(k), 4);
  g.take(mix64(0));
  g.push(mix64(10), 4);  // 1, 2, 3, 10: nothing pushed out
  for (std::uint64_t k : {1, 2, 3, 10}) EXPECT_TRUE(g.contains(mix64(k))) << k;
}

TEST(GhostQueue, RepushedHashCountsOnceAndIsNewest) {
  GhostQueue g;
  g.push(mix64(1), 3);
  g.push(mix64(2), 3);
  g.push(mix64(1), 3);
  EXPECT_EQ(g.size(), 2U);
  g.push(mix64(3), 3);
  g.push(mix64(4), 3);  // pushes out 2, the oldest live one
  EXPECT_FALSE(g.contains(mix64(2)));
  EXPECT_TRUE(g.contains(mix64(1)));
}

TEST(GhostQueue, ZeroAndCapacityChanges) {
  GhostQueue g;
  g.push(0, 8);  // hash 0 is a valid hash
  EXPECT_TRUE(g.contains(0));
  for (std::uint64_t k = 1; k < 1000; ++k) g.push(mix64(k), 500);
  EXPECT_EQ(g.size(), 500U);
  g.push(mix64(5000), 3);  // a smaller capacity trims at once
  EXPECT_EQ(g.size(), 3U);
  EXPECT_TRUE(g.contains(mix64(999)));
  g.clear();
  EXPECT_EQ(g.size(), 0U);
  EXPECT_FALSE(g.contains(mix64(999)));
}

TEST(GhostQueue, ChurnKeepsTheTableConsistent) {
  GhostQueue g;
  for (std::uint64_t round = 0; round < 20; ++round) {
    for (std::uint64_t k = 0; k < 5000; ++k) {
      g.push(mix64(round * 5000 + k), 1000);
      if (k % 3 == 0) g.take(mix64(round * 5000 + k - k / 2));
    }
    ASSERT_LE(g.size(), 1000U);
  }
  EXPECT_TRUE(g.contains(mix64(19 * 5000 + 4999)));
}

}  // namespace
}  // namespace stratacache::store
