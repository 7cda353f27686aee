// Key storage of ShardedStore: keys past CompactKey::kInline live in the shard's KeySlab. Long,
// empty and very long keys, removal and reuse, compaction, namespaces, every policy.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/hash.hpp"
#include "store/lru_policy.hpp"
#include "store/policies.hpp"
#include "store/sharded_store.hpp"

namespace stratacache::store {
namespace {

// The hash of the whole key, as callers compute it: however it is split into prefix and body.
std::uint64_t h(std::string_view p, std::string_view k) {
  return hash_bytes(std::string(p).append(k));
}

// The body of key `i`, padded to `len` bytes (at least its digits).
std::string body(int i, std::size_t len) {
  std::string s = "k" + std::to_string(i) + ":";
  if (s.size() < len) s.append(len - s.size(), static_cast<char>('a' + i % 26));
  return s;
}

class KeysTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Store<std::string>> make(StoreConfig c) {
    return make_store<std::string>(GetParam(), c);
  }
  void set(Store<std::string>& s, std::string_view p, std::string_view k, std::string v) {
    s.set({p, k}, h(p, k), std::move(v), 1, kNoTtl, dropped_);
  }
  static std::optional<std::string> get(Store<std::string>& s, std::string_view p,
                                        std::string_view k) {
    return s.get({p, k}, h(p, k));
  }
  std::vector<std::string> dropped_;
};

TEST_P(KeysTest, LongShortAndEmptyKeysRoundTrip) {
  auto s = make({.max_entries = 10'000, .shards = 4});
  const std::vector<std::size_t> lengths = {0,  1,    15,   16,   17,   31,   32,    33,
                                            64, 1000, 1024, 1025, 4096, 4097, 70'000};
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    const std::string k(lengths[i], static_cast<char>('a' + i));
    set(*s, "", k, "v" + std::to_string(i));
    set(*s, "ns:", k, "n" + std::to_string(i));  // the prefix moves the in-place boundary
  }
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    const std::string k(lengths[i], static_cast<char>('a' + i));
    EXPECT_EQ(get(*s, "", k), "v" + std::to_string(i)) << lengths[i];
    EXPECT_EQ(get(*s, "ns:", k), "n" + std::to_string(i)) << lengths[i];
    // Same bytes split differently between prefix and body: the same key.
    if (k.size() >= 3) {
      EXPECT_EQ(get(*s, k.substr(0, 3), k.substr(3)), "v" + std::to_string(i));
    }
  }
  EXPECT_FALSE(get(*s, "", std::string(33, 'x')));
  EXPECT_FALSE(get(*s, "", std::string(4097, 'z')));  // same length, other bytes
  std::string last_differs(1000, 'a' + 9);
  last_differs.back() = 'z';
  EXPECT_FALSE(get(*s, "", last_differs));
  std::vector<std::string> keys = s->keys("ns:");
  EXPECT_EQ(keys.size(), lengths.size());
  for (const std::string& k : keys) EXPECT_TRUE(k.starts_with("ns:"));
  EXPECT_EQ(s->keys("").size(), 2 * lengths.size());
}

TEST_P(KeysTest, RemovedKeysFreeTheirBytesForTheNext) {
  auto s = make({.max_entries = 20'000, .shards = 2});
  for (int i = 0; i < 10'000; ++i) set(*s, "", body(i, 40), "v");
  const std::size_t full = s->overhead_bytes();
  for (int round = 1; round <= 5; ++round) {
    for (int i = 0; i < 10'000; ++i) {
      ASSERT_TRUE(s->erase({"", body(i + (round - 1) * 10'000, 40)},
                           h("", body(i + (round - 1) * 10'000, 40)), dropped_));
      set(*s, "", body(i + round * 10'000, 40), "w");
    }
  }
  EXPECT_EQ(s->size(), 10'000U);
  for (int i = 0; i < 10'000; ++i) ASSERT_EQ(get(*s, "", body(i + 50'000, 40)), "w");
  // Five rounds of delete and insert reused the freed blocks: the store did not grow.
  EXPECT_LE(s->overhead_bytes(), full + 2 * KeySlab::kLastChunk);
}

TEST_P(KeysTest, EvictionUnderABoundKeepsEveryLiveKeyReadable) {
  auto s = make({.max_entries = 2000, .shards = 2});
  for (int i = 0; i < 30'000; ++i) set(*s, "p:", body(i, 16 + i % 50), std::to_string(i));
  EXPECT_LE(s->size(), 2000U);
  std::size_t found = 0;
  for (const std::string& k : s->keys("p:")) {
    const std::string b = k.substr(2);
    const int i = std::stoi(b.substr(1));
    ASSERT_EQ(b, body(i, 16 + i % 50));
    ASSERT_EQ(get(*s, "p:", b), std::to_string(i));
    ++found;
  }
  EXPECT_EQ(found, s->size());
}

TEST_P(KeysTest, KeysThatChangeLengthAreCompactedAway) {
  auto s = make({.max_entries = 40'000, .shards = 1});
  for (int i = 0; i < 20'000; ++i) set(*s, "", body(i, 200), "long");
  const std::size_t big = s->overhead_bytes();
  // The long keys go, shorter ones come: no 24-byte key fits a 200-byte class.
  for (int i = 0; i < 20'000; ++i) {
    s->erase({"", body(i, 200)}, h("", body(i, 200)), dropped_);
    set(*s, "", body(i + 20'000, 24), "short");
  }
  for (int i = 0; i < 20'000; ++i) ASSERT_EQ(get(*s, "", body(i + 20'000, 24)), "short");
  // overhead_bytes() counts free slab blocks: uncompacted, the 4 MB of 200-byte blocks.
  EXPECT_LT(s->overhead_bytes(), big + 1'000'000);
}

TEST_P(KeysTest, ErasePrefixAndClearGiveTheBytesBack) {
  auto s = make({.max_entries = 50'000, .shards = 4});
  for (int n = 0; n < 64; ++n) {  // many namespaces, some long enough to spill the key
    const std::string p = "namespace-" + std::to_string(n) + ":";
    for (int i = 0; i < 300; ++i) set(*s, p, body(i, 8 + n % 24), p);
  }
  const std::size_t full = s->overhead_bytes();
  for (int n = 0; n < 64; n += 2) {
    EXPECT_EQ(s->erase_prefix("namespace-" + std::to_string(n) + ":", dropped_), 300U);
  }
  // Every key here is long (prefix and body past 15 bytes): half of them, ~300 KB, went free;
  // overhead_bytes() counts free slab blocks, and the free-id list grew by 4 bytes an entry.
  EXPECT_LT(s->overhead_bytes(), full + 150'000);
  for (int n = 1; n < 64; n += 2) {
    const std::string p = "namespace-" + std::to_string(n) + ":";
    for (int i = 0; i < 300; ++i) ASSERT_EQ(get(*s, p, body(i, 8 + n % 24)), p);
  }
  EXPECT_EQ(s->erase_prefix("", dropped_), 32U * 300);
  EXPECT_EQ(s->size(), 0U);
  EXPECT_LT(s->overhead_bytes(), full + 150'000);
  set(*s, "again:", body(1, 100), "x");
  EXPECT_EQ(get(*s, "again:", body(1, 100)), "x");
}

TEST_P(KeysTest, ExpiredLongKeysAreReclaimed) {
  ManualClock clock(1'000'000'000);
  auto s = make({.max_entries = 1000, .clock = &clock});
  for (int i = 0; i < 500; ++i) {
    s->set({"", body(i, 48)}, h("", body(i, 48)), "t", 1, 1000, dropped_);
  }
  clock.advance(2000);
  EXPECT_EQ(s->expire(dropped_), 500U);
  EXPECT_EQ(s->size(), 0U);
  set(*s, "", body(7, 48), "after");
  EXPECT_EQ(get(*s, "", body(7, 48)), "after");
}

INSTANTIATE_TEST_SUITE_P(EveryPolicy, KeysTest, ::testing::ValuesIn(policy_names()));

}  // namespace
}  // namespace stratacache::store
