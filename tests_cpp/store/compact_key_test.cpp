#include "store/compact_key.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace stratacache::store {
namespace {

TEST(CompactKey, HoldsPrefixThenBodyInPlaceAndInTheSlab) {
  KeySlab slab;
  // Sizes around the in-place limit and past the slab's largest block, with and without a
  // prefix.
  for (std::size_t n : {0, 1, 11, 14, 15, 16, 17, 40, 1000, 1021, 1022, 5000}) {
    const std::string body(n, 'k');
    CompactKey key;
    key.assign("", body, slab);
    EXPECT_EQ(key.view(), body) << n;
    key.assign("ns:", body, slab);
    EXPECT_EQ(key.view(), "ns:" + body) << n;
    EXPECT_TRUE(key.starts_with("ns:"));
    EXPECT_FALSE(key.starts_with("nt:"));
    EXPECT_EQ(key.in_slab_chunks(), n + 3 > CompactKey::kInline && n + 3 <= KeySlab::kMaxBlock);
    key.clear(slab);
  }
  EXPECT_EQ(slab.live_bytes(), 0U);
}

TEST(CompactKey, ClearEmptiesAndReassignReplaces) {
  KeySlab slab;
  CompactKey key;
  key.assign("p:", std::string(30, 'x'), slab);
  EXPECT_EQ(slab.live_bytes(), 32U);
  key.clear(slab);
  EXPECT_EQ(key.view(), "");
  EXPECT_EQ(slab.live_bytes(), 0U);
  key.assign("", "short", slab);
  EXPECT_EQ(key.view(), "short");
  key.assign("", std::string(20, 'y'), slab);  // in place -> slab
  EXPECT_EQ(key.view(), std::string(20, 'y'));
  key.assign("", "again", slab);  // slab -> in place: the block goes back
  EXPECT_EQ(key.view(), "again");
  EXPECT_EQ(slab.live_bytes(), 0U);
  key.clear(slab);
}

TEST(CompactKey, MovesLeaveTheSourceEmpty) {
  KeySlab slab;
  for (const std::string& s : {std::string("tiny"), std::string(64, 'z')}) {
    CompactKey a;
    a.assign("", s, slab);
    CompactKey b(std::move(a));
    EXPECT_EQ(b.view(), s);
    EXPECT_EQ(a.view(), "");  // NOLINT(bugprone-use-after-move): the contract under test
    CompactKey c;
    c = std::move(b);
    EXPECT_EQ(c.view(), s);
    EXPECT_EQ(b.view(), "");  // NOLINT(bugprone-use-after-move)
    c.clear(slab);
  }
  EXPECT_EQ(slab.live_bytes(), 0U);
}

TEST(CompactKey, SurvivesVectorGrowth) {
  // The entry slab is a vector: regrowth moves every key.
  KeySlab slab;
  std::vector<CompactKey> keys;
  for (int i = 0; i < 1000; ++i) {
    keys.emplace_back();
    keys.back().assign(i % 2 == 0 ? "" : "namespace:", "key:" + std::to_string(i), slab);
  }
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(keys[i].view(), (i % 2 == 0 ? "" : "namespace:") + ("key:" + std::to_string(i)));
  }
  for (CompactKey& k : keys) k.clear(slab);
}

TEST(CompactKey, RelocateRepointsALongKeyOnly) {
  KeySlab slab;
  CompactKey shorter;
  shorter.assign("", "short", slab);
  shorter.relocate(nullptr);  // in place: nothing to repoint
  EXPECT_EQ(shorter.view(), "short");
  CompactKey longer;
  const std::string bytes(24, 'q');
  longer.assign("", bytes, slab);
  std::string copy = bytes;
  char* old = const_cast<char*>(longer.view().data());
  longer.relocate(copy.data());
  EXPECT_EQ(longer.view().data(), copy.data());
  EXPECT_EQ(longer.view(), bytes);
  longer.relocate(old);
  longer.clear(slab);
}

}  // namespace
}  // namespace stratacache::store
