#include "store/name_arena.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stratacache::store {
namespace {

TEST(NameArena, KeepsPrefixAndBodyBehindAReference) {
  NameArena arena;
  const std::uint32_t a = arena.add("ns\x1f", "user:1");
  const std::uint32_t b = arena.add("", std::string(300, 'x'));  // two-byte length
  ASSERT_NE(a, NameArena::kNone);
  ASSERT_NE(b, NameArena::kNone);
  EXPECT_EQ(arena.get(a).full, "ns\x1fuser:1");
  EXPECT_EQ(arena.get(a).prefix_size, 3U);
  EXPECT_EQ(arena.get(b).full, std::string(300, 'x'));
  EXPECT_EQ(arena.get(b).prefix_size, 0U);
  EXPECT_EQ(arena.live_bytes(), (2 + 9) + (3 + 300));
  EXPECT_EQ(arena.bytes(), NameArena::kChunk + sizeof(void*));
}

TEST(NameArena, RefusesNamesPastTheLimit) {
  NameArena arena;
  EXPECT_EQ(arena.add("p", std::string(NameArena::kMaxName, 'x')), NameArena::kNone);
  EXPECT_EQ(arena.bytes(), 0U);
  EXPECT_NE(arena.add("", std::string(NameArena::kMaxName, 'x')), NameArena::kNone);
}

TEST(NameArena, NamesSpanManyChunksAndCompactByCopy) {
  NameArena arena;
  std::vector<std::uint32_t> refs;
  for (int i = 0; i < 5000; ++i) refs.push_back(arena.add("n:", "key-" + std::to_string(i)));
  EXPECT_GT(arena.bytes(), 2 * NameArena::kChunk);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(arena.get(refs[i]).full, "n:key-" + std::to_string(i));
  }
  for (int i = 0; i < 5000; i += 2) arena.release(refs[i]);
  for (int i = 1; i < 5000; i += 2) arena.release(refs[i]);  // every one dead
  EXPECT_EQ(arena.live_bytes(), 0U);
  EXPECT_TRUE(arena.wants_compaction());
  NameArena fresh;
  const std::uint32_t kept = fresh.copy_from(arena, refs[4999]);
  EXPECT_EQ(fresh.get(kept).full, "n:key-4999");
  EXPECT_EQ(fresh.get(kept).prefix_size, 2U);
  EXPECT_FALSE(fresh.wants_compaction());
}

}  // namespace
}  // namespace stratacache::store
