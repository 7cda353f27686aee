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

}  // namespace
}  // namespace stratacache::store
