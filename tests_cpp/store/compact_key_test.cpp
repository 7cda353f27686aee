#include "store/compact_key.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace stratacache::store {
namespace {

TEST(CompactKey, HoldsPrefixThenBodyInPlaceAndOnTheHeap) {
  // Sizes around the in-place limit, with and without a prefix.
  for (std::size_t n : {0, 1, 11, 14, 15, 16, 17, 40, 1000}) {
    const std::string body(n, 'k');
    CompactKey key;
    key.assign("", body);
    EXPECT_EQ(key.view(), body) << n;
    key.assign("ns:", body);
    EXPECT_EQ(key.view(), "ns:" + body) << n;
    EXPECT_TRUE(key.starts_with("ns:"));
    EXPECT_FALSE(key.starts_with("nt:"));
  }
}

TEST(CompactKey, ClearEmptiesAndReassignReplaces) {
  CompactKey key;
  key.assign("p:", std::string(30, 'x'));
  key.clear();
  EXPECT_EQ(key.view(), "");
  key.assign("", "short");
  EXPECT_EQ(key.view(), "short");
  key.assign("", std::string(20, 'y'));  // in place -> heap
  EXPECT_EQ(key.view(), std::string(20, 'y'));
  key.assign("", "again");  // heap -> in place
  EXPECT_EQ(key.view(), "again");
}

TEST(CompactKey, MovesLeaveTheSourceEmpty) {
  for (const std::string& s : {std::string("tiny"), std::string(64, 'z')}) {
    CompactKey a;
    a.assign("", s);
    CompactKey b(std::move(a));
    EXPECT_EQ(b.view(), s);
    EXPECT_EQ(a.view(), "");  // NOLINT(bugprone-use-after-move): the contract under test
    CompactKey c;
    c.assign("", "old value, long enough for the heap");
    c = std::move(b);
    EXPECT_EQ(c.view(), s);
    EXPECT_EQ(b.view(), "");  // NOLINT(bugprone-use-after-move)
  }
}

TEST(CompactKey, SurvivesVectorGrowth) {
  // The entry slab is a vector: regrowth moves every key.
  std::vector<CompactKey> keys;
  for (int i = 0; i < 1000; ++i) {
    keys.emplace_back();
    keys.back().assign(i % 2 == 0 ? "" : "namespace:", "key:" + std::to_string(i));
  }
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(keys[i].view(), (i % 2 == 0 ? "" : "namespace:") + ("key:" + std::to_string(i)));
  }
}

}  // namespace
}  // namespace stratacache::store
