#include "predict/slot_index.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "common/hash.hpp"

namespace stratacache::predict {
namespace {

// Keys 0..n-1 in slots 0..n-1, as a FeatureTable holds them.
struct Owner {
  std::vector<std::int64_t> keys;
  SlotIndex index;

  std::uint32_t find(std::int64_t key) const {
    return index.find(mix64(static_cast<std::uint64_t>(key)),
                      [&](std::uint32_t slot) { return keys[slot] == key; });
  }
};

TEST(SlotIndex, FindsInsertsAndErasesAcrossGrowth) {
  Owner o;
  for (std::int64_t k = 0; k < 20'000; ++k) {
    o.keys.push_back(k);
    o.index.insert(mix64(static_cast<std::uint64_t>(k)), static_cast<std::uint32_t>(k));
  }
  EXPECT_EQ(o.index.size(), 20'000U);
  for (std::int64_t k = 0; k < 20'000; ++k) ASSERT_EQ(o.find(k), static_cast<std::uint32_t>(k));
  EXPECT_EQ(o.find(20'000), SlotIndex::kAbsent);
  for (std::int64_t k = 0; k < 20'000; k += 3) {
    o.index.erase(mix64(static_cast<std::uint64_t>(k)), static_cast<std::uint32_t>(k));
  }
  for (std::int64_t k = 0; k < 20'000; ++k) {
    ASSERT_EQ(o.find(k), k % 3 == 0 ? SlotIndex::kAbsent : static_cast<std::uint32_t>(k)) << k;
  }
  // 8 bytes an entry, load factor above 1/2 once grown: 20k keys in 32k entries.
  EXPECT_EQ(o.index.bytes(), 32'768 * 8U);
}

TEST(SlotIndex, TagCollisionsAreSettledByTheOwner) {
  // Same top 32 bits (tag and home), different keys: both found, each in its own slot.
  Owner o;
  o.keys = {1, 2};
  const std::uint64_t h = 0xABCD'EF01'0000'0000ULL;
  o.index.insert(h | 1, 0);
  o.index.insert(h | 2, 1);
  const auto find = [&](std::int64_t key) {
    return o.index.find(h | static_cast<std::uint64_t>(key),
                        [&](std::uint32_t slot) { return o.keys[slot] == key; });
  };
  EXPECT_EQ(find(1), 0U);
  EXPECT_EQ(find(2), 1U);
  o.index.erase(h | 1, 0);
  EXPECT_EQ(find(1), SlotIndex::kAbsent);
  EXPECT_EQ(find(2), 1U);
}

}  // namespace
}  // namespace stratacache::predict
