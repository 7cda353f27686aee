#include "store/lru_policy.hpp"

#include <gtest/gtest.h>

namespace stratacache::store {
namespace {

TEST(LruPolicy, EvictsLeastRecentlyUsed) {
  LruPolicy p(3);
  for (EntryId id = 0; id < 3; ++id) p.on_insert(id, id, 1);
  EXPECT_EQ(p.victim(), 0U);
  p.on_access(0, 0);
  EXPECT_EQ(p.victim(), 1U);
  p.on_update(1, 1, 1);  // a write refreshes recency too
  EXPECT_EQ(p.victim(), 2U);
  p.on_remove(2);
  EXPECT_EQ(p.victim(), 0U);
  p.on_remove(0);
  EXPECT_EQ(p.victim(), 1U);
  p.on_remove(1);
  EXPECT_EQ(p.victim(), std::nullopt);
}

TEST(LruPolicy, TracksWeight) {
  LruPolicy p(100);
  p.on_insert(0, 0, 10);
  p.on_insert(1, 1, 5);
  p.on_update(0, 0, 3);
  EXPECT_EQ(p.weight(), 8U);
  p.on_remove(1);
  EXPECT_EQ(p.weight(), 3U);
}

}  // namespace
}  // namespace stratacache::store
