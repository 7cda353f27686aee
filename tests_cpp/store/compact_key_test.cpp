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
  for (std::size_t n : {0, 1, 11, 14, 15, 16, 17, 40, 1000, 1021, 1022, 1030, 5000, 65'531, 65'532,
                        65'533, 100'000}) {
    const std::string body(n, 'k');
    CompactKey key;
    key.assign("", body, slab);
    EXPECT_EQ(key.to_string(), body) << n;
    key.assign("ns:", body, slab);
    EXPECT_EQ(key.to_string(), "ns:" + body) << n;
    EXPECT_TRUE(key.starts_with("ns:"));
    EXPECT_FALSE(key.starts_with("nt:"));
    EXPECT_EQ(key.size(), n + 3);
    EXPECT_EQ(key.in_slab_chunks(),
              n + 3 > CompactKey::kInline && n + 3 - CompactKey::kTail <= KeySlab::kMaxBlock);
    key.clear(slab);
  }
  EXPECT_EQ(slab.live_bytes(), 0U);
}

TEST(CompactKey, ClearEmptiesAndReassignReplaces) {
  KeySlab slab;
  CompactKey key;
  key.assign("p:", std::string(30, 'x'), slab);
  EXPECT_EQ(slab.live_bytes(), 32U - CompactKey::kTail);  // the last bytes stay in place
  key.clear(slab);
  EXPECT_EQ(key.to_string(), "");
  EXPECT_EQ(slab.live_bytes(), 0U);
  key.assign("", "short", slab);
  EXPECT_EQ(key.to_string(), "short");
  key.assign("", std::string(20, 'y'), slab);  // in place -> slab
  EXPECT_EQ(key.to_string(), std::string(20, 'y'));
  key.assign("", "again", slab);  // slab -> in place: the block goes back
  EXPECT_EQ(key.to_string(), "again");
  EXPECT_EQ(slab.live_bytes(), 0U);
  key.clear(slab);
}

TEST(CompactKey, MovesLeaveTheSourceEmpty) {
  KeySlab slab;
  for (const std::string& s : {std::string("tiny"), std::string(64, 'z')}) {
    CompactKey a;
    a.assign("", s, slab);
    CompactKey b(std::move(a));
    EXPECT_EQ(b.to_string(), s);
    EXPECT_EQ(a.to_string(), "");  // NOLINT(bugprone-use-after-move): the contract under test
    CompactKey c;
    c = std::move(b);
    EXPECT_EQ(c.to_string(), s);
    EXPECT_EQ(b.to_string(), "");  // NOLINT(bugprone-use-after-move)
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
    EXPECT_EQ(keys[i].to_string(), (i % 2 == 0 ? "" : "namespace:") + ("key:" + std::to_string(i)));
  }
  for (CompactKey& k : keys) k.clear(slab);
}

TEST(CompactKey, RelocateRepointsALongKeyOnly) {
  KeySlab slab;
  CompactKey shorter;
  shorter.assign("", "short", slab);
  shorter.relocate(nullptr);  // in place: nothing to repoint
  EXPECT_EQ(shorter.to_string(), "short");
  CompactKey longer;
  const std::string bytes = "0123456789abcdefghijklmnopqrstuvwxyz";
  longer.assign("", bytes, slab);
  ASSERT_EQ(longer.block_size(), bytes.size() - CompactKey::kTail);
  std::string copy(longer.block(), longer.block_size());
  char* old = longer.block();
  longer.relocate(copy.data());
  EXPECT_EQ(longer.block(), copy.data());
  EXPECT_EQ(longer.to_string(), bytes);
  longer.relocate(old);
  longer.clear(slab);
}

// Every split of the same bytes into prefix and body, stored and looked up, for keys whose
// cut between block and in-place tail falls anywhere in either part.
TEST(CompactKey, EqualsAndStartsWithMatchTheWholeBytesHoweverSplit) {
  KeySlab slab;
  for (std::size_t n : {16, 17, 20, 33, 64, 1100, 70'000}) {
    std::string whole(n, 'x');
    for (std::size_t i = 0; i < n; ++i) whole[i] = static_cast<char>('a' + (i * 7) % 26);
    for (std::size_t stored_cut : {std::size_t{0}, std::size_t{1}, n - 5, n - 2, n}) {
      CompactKey key;
      key.assign(std::string_view(whole).substr(0, stored_cut),
                 std::string_view(whole).substr(stored_cut), slab);
      ASSERT_EQ(key.to_string(), whole) << n << " " << stored_cut;
      for (std::size_t cut :
           {std::size_t{0}, std::size_t{1}, n / 2, n - 6, n - 5, n - 4, n - 1, n}) {
        const std::string_view w(whole);
        EXPECT_TRUE(key.equals({w.substr(0, cut), w.substr(cut)})) << n << " " << cut;
        EXPECT_TRUE(key.starts_with(w.substr(0, cut))) << n << " " << cut;
        for (std::size_t flip : {std::size_t{0}, n / 2, n - 5, n - 1}) {
          std::string other = whole;
          other[flip] = '#';
          const std::string_view o(other);
          EXPECT_FALSE(key.equals({o.substr(0, cut), o.substr(cut)})) << n << " " << flip;
          if (flip < cut) {
            EXPECT_FALSE(key.starts_with(o.substr(0, cut))) << n << " " << flip;
          }
        }
        if (cut < n) {
          EXPECT_FALSE(key.equals({w.substr(0, cut), w.substr(cut, n - cut - 1)}));  // shorter
        }
      }
      EXPECT_FALSE(key.starts_with(whole + "y"));
      key.clear(slab);
    }
  }
  EXPECT_EQ(slab.live_bytes(), 0U);
}

}  // namespace
}  // namespace stratacache::store
