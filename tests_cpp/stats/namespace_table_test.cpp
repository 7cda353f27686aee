#include "stats/namespace_table.hpp"

#include <gtest/gtest.h>

#include <string>

namespace stratacache::stats {
namespace {

TEST(NamespaceTable, SlotsAreStablePerPrefix) {
  NamespaceTable t;
  const NamespaceSlot a = t.slot("users\x1f");
  const NamespaceSlot b = t.slot("orders\x1f");
  EXPECT_NE(a, b);
  EXPECT_NE(a, kOverflowSlot);
  EXPECT_EQ(t.slot("users\x1f"), a);
  const auto entries = t.entries();
  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].prefix, "users\x1f");
  EXPECT_EQ(entries[1].slot, b);
}

TEST(NamespaceTable, PrefixesBeyondTheBoundShareTheOverflowSlot) {
  NamespaceTable t;
  for (std::size_t i = 0; i + 1 < kMaxNamespaces; ++i) {
    EXPECT_NE(t.slot("ns" + std::to_string(i)), kOverflowSlot);
  }
  EXPECT_EQ(t.slot("one-too-many"), kOverflowSlot);
  EXPECT_EQ(t.slot("another"), kOverflowSlot);
  EXPECT_EQ(t.overflowed(), 2U);
  EXPECT_EQ(t.entries().size(), kMaxNamespaces - 1);
  EXPECT_EQ(t.slot("ns0"), 1U);  // registered ones keep their slot
}

}  // namespace
}  // namespace stratacache::stats
