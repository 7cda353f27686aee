#include "store/key_index.hpp"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

namespace stratacache::store {
namespace {

// Hashes are chosen to collide heavily (few distinct low bits) to exercise probing and the
// backward-shift deletion.
TEST(KeyIndex, MatchesReferenceMapUnderChurn) {
  std::mt19937_64 rng(11);
  std::vector<std::uint64_t> hash_of_id(5000);
  for (auto& h : hash_of_id)
    h = (rng() & 0xFFFFFFFF00000000ULL) | (rng() % 37) << 20 | (rng() % 37);
  auto hash_of = [&](EntryId id) { return hash_of_id[id]; };
  KeyIndex index;
  std::unordered_map<EntryId, bool> present;
  for (int step = 0; step < 50'000; ++step) {
    const auto id = static_cast<EntryId>(rng() % hash_of_id.size());
    const auto find = [&] { return index.find(hash_of(id), [&](EntryId c) { return c == id; }); };
    if (present[id]) {
      ASSERT_EQ(find(), id);
      index.erase(hash_of(id), id);
      present[id] = false;
      ASSERT_EQ(find(), kNoEntry);
    } else {
      ASSERT_EQ(find(), kNoEntry);
      index.insert(hash_of(id), id);
      present[id] = true;
    }
  }
  std::size_t live = 0;
  for (const auto& [id, p] : present) {
    if (!p) continue;
    ++live;
    EXPECT_EQ(index.find(hash_of(id), [&](EntryId c) { return c == id; }), id);
  }
  EXPECT_EQ(index.size(), live);
}

// Filled to just below its 3/4 growth point, where probe sequences are longest:
// every present id is found, no absent hash is, before and after half the ids leave.
TEST(KeyIndex, FindsExactlyThePresentIdsAtFullLoad) {
  std::mt19937_64 rng(5);
  KeyIndex index;
  constexpr EntryId kIds = 12'200;  // 16384 slots hold up to 12288
  std::vector<std::uint64_t> hash_of(kIds);
  for (auto& h : hash_of) h = rng();
  for (EntryId id = 0; id < kIds; ++id) index.insert(hash_of[id], id);
  ASSERT_EQ(index.capacity_bytes(), 16384 * 9U + 16U);  // slots and control bytes
  const auto find = [&](std::uint64_t h, EntryId id) {
    return index.find(h, [&](EntryId c) { return c == id; });
  };
  const auto check = [&](EntryId from) {
    for (EntryId id = 0; id < kIds; ++id) {
      ASSERT_EQ(find(hash_of[id], id), id < from ? kNoEntry : id);
    }
    for (int i = 0; i < 20'000; ++i) ASSERT_EQ(find(rng(), kIds), kNoEntry);
  };
  check(0);
  for (EntryId id = 0; id < kIds / 2; ++id) index.erase(hash_of[id], id);
  check(kIds / 2);
  EXPECT_EQ(index.size(), kIds - kIds / 2);
}

// Twelve ids whose home is the last of 16 slots (the most a 16-slot table holds): their run
// wraps past the end, where lookups read the control bytes' copy. Some share their control
// byte too (the same top seven tag bits), so only the tag tells them apart.
TEST(KeyIndex, FindsRunsThatWrapPastTheEnd) {
  KeyIndex index;
  std::vector<std::uint64_t> hash_of;
  for (std::uint64_t k = 0; k < 12; ++k) hash_of.push_back(((k % 3) << 25) | (k << 4) | 15U);
  for (EntryId id = 0; id < 12; ++id) index.insert(hash_of[id], id);
  ASSERT_EQ(index.capacity_bytes(), 16 * 9U + 16U);  // still 16 slots
  const auto find = [&](std::uint64_t h, EntryId id) {
    return index.find(h, [&](EntryId c) { return c == id; });
  };
  for (EntryId id = 0; id < 12; ++id) ASSERT_EQ(find(hash_of[id], id), id);
  ASSERT_EQ(find(15U | (99U << 4), 12), kNoEntry);  // same home, a tag nobody has
  for (EntryId id = 0; id < 12; id += 2) index.erase(hash_of[id], id);
  for (EntryId id = 0; id < 12; ++id) ASSERT_EQ(find(hash_of[id], id), id % 2 == 0 ? kNoEntry : id);
  for (EntryId id = 0; id < 12; id += 2) index.insert(hash_of[id], id);
  for (EntryId id = 0; id < 12; ++id) ASSERT_EQ(find(hash_of[id], id), id);
  EXPECT_EQ(index.size(), 12U);
}

}  // namespace
}  // namespace stratacache::store
