#include "store/key_names.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace stratacache::store {
namespace {

// (hash, full name) of every staged name, older generation first.
std::vector<std::pair<std::uint64_t, std::string>> contents(const std::array<StagedNames, 2>& s) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (const StagedNames& g : s) {
    for (const auto& [hash, ref] : g.entries) {
      out.emplace_back(hash, std::string(g.arena.get(ref).full));
    }
  }
  return out;
}

TEST(KeyNames, StagesPrefixAndBodyOnceUntilTaken) {
  KeyNames names(4);
  names.remember(7, "ns\x1f", "user:1");
  names.remember(7, "other\x1f", "ignored");  // staged: the first name stays
  EXPECT_EQ(names.size(), 1U);
  const auto staged = names.take();
  ASSERT_EQ(staged[1].entries.size(), 1U);
  EXPECT_EQ(staged[1].entries[0].first, 7U);
  const NameView v = staged[1].arena.get(staged[1].entries[0].second);
  EXPECT_EQ(v.full, "ns\x1fuser:1");
  EXPECT_EQ(v.prefix_size, 3U);
  EXPECT_EQ(names.size(), 0U);
  EXPECT_EQ(names.bytes(), 0U);           // the memory went with the names
  names.remember(7, "ns\x1f", "user:1");  // after a take, staged again
  EXPECT_EQ(names.size(), 1U);
}

TEST(KeyNames, KeepsTheLatestNamesWithinTwiceItsCapacity) {
  KeyNames names(10);
  for (std::uint64_t h = 0; h < 95; ++h) names.remember(h, "", "k" + std::to_string(h));
  EXPECT_EQ(names.size(), 15U);  // generations 80-89 and 90-94
  EXPECT_EQ(names.refused(), 80U);
  names.remember(85, "", "again");  // still staged, in the older generation
  const auto all = contents(names.take());
  ASSERT_EQ(all.size(), 15U);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].first, 80 + i);
    EXPECT_EQ(all[i].second, "k" + std::to_string(80 + i));
  }
}

TEST(KeyNames, FindsStagedHashesAcrossGrowth) {
  KeyNames names(100'000);
  for (std::uint64_t h = 0; h < 5000; ++h) names.remember(h * 0x9E3779B97F4A7C15ULL, "", "k");
  for (std::uint64_t h = 0; h < 5000; ++h) names.remember(h * 0x9E3779B97F4A7C15ULL, "", "k");
  EXPECT_EQ(names.size(), 5000U);
  EXPECT_EQ(names.refused(), 0U);
  EXPECT_GT(names.bytes(), 5000 * sizeof(std::uint64_t));
}

}  // namespace
}  // namespace stratacache::store
