#include "store/key_names.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace stratacache::store {
namespace {

TEST(KeyNames, RemembersPrefixAndBodyOnce) {
  KeyNames names(4);
  names.remember(7, "ns\x1f", "user:1");
  names.remember(7, "other\x1f", "ignored");  // known: the first name stays
  const auto found = names.find(7);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->full, "ns\x1fuser:1");
  EXPECT_EQ(found->prefix_size, 3u);
  EXPECT_FALSE(names.find(8).has_value());
}

TEST(KeyNames, StaysWithinTwiceItsCapacity) {
  KeyNames names(10);
  for (std::uint64_t h = 0; h < 100; ++h) names.remember(h, "", "k" + std::to_string(h));
  EXPECT_EQ(names.size(), 20u);
  EXPECT_EQ(names.refused(), 80u);
  EXPECT_TRUE(names.find(99).has_value());  // the newest name made room for itself
}

TEST(KeyNames, RetainTrimsOnlyAboveCapacity) {
  KeyNames names(10);
  for (std::uint64_t h = 0; h < 8; ++h) names.remember(h, "", "k");
  names.retain([](std::uint64_t) { return false; });
  EXPECT_EQ(names.size(), 8u);  // within capacity: untouched
  for (std::uint64_t h = 8; h < 16; ++h) names.remember(h, "", "k");
  names.retain([](std::uint64_t h) { return h % 2 == 0; });
  EXPECT_EQ(names.size(), 8u);
  EXPECT_TRUE(names.find(4).has_value());
  EXPECT_FALSE(names.find(5).has_value());
}

}  // namespace
}  // namespace stratacache::store
