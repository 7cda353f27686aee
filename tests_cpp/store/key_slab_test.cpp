#include "store/key_slab.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace stratacache::store {
namespace {

// A block and what was written in it.
struct Held {
  char* p;
  std::string bytes;
};

Held put(KeySlab& slab, std::size_t n, char fill) {
  Held h{slab.allocate(n), std::string(n, fill)};
  std::memcpy(h.p, h.bytes.data(), n);
  return h;
}

void expect_intact(const std::vector<Held>& held) {
  for (const Held& h : held) ASSERT_EQ(std::string(h.p, h.bytes.size()), h.bytes);
}

TEST(KeySlab, BlocksCostTheirLengthAndNoHeader) {
  KeySlab slab;
  std::vector<Held> held;
  for (int i = 0; i < 10'000; ++i) held.push_back(put(slab, 32, static_cast<char>('a' + i % 26)));
  expect_intact(held);
  EXPECT_EQ(slab.live_bytes(), 10'000U * 32);
  // Whole chunks and the tables: within one last chunk of the bytes asked for.
  EXPECT_LE(slab.bytes(), 10'000U * 32 + KeySlab::kLastChunk + 2048);
  // No rounding: a 17-byte key (a 16-byte one and a namespace's separator) takes 17 bytes.
  KeySlab odd;
  Held a = put(odd, 17, 'o');
  Held b = put(odd, 17, 'p');
  EXPECT_EQ(b.p, a.p + 17);
  EXPECT_EQ(odd.live_bytes(), 34U);
  expect_intact({a, b});
  odd.deallocate(a.p, 17);
  odd.deallocate(b.p, 17);
}

TEST(KeySlab, AFreedBlockServesTheNextOfItsLengthOnly) {
  KeySlab slab;
  Held keep = put(slab, 40, 'k');  // so the slab is not emptied (and reset) below
  char* a = slab.allocate(33);
  char* b = slab.allocate(33);
  slab.deallocate(a, 33);
  slab.deallocate(b, 33);
  EXPECT_EQ(slab.free_bytes(), 66U);
  char* other = slab.allocate(34);  // another length: a fresh block
  EXPECT_NE(other, a);
  EXPECT_NE(other, b);
  EXPECT_EQ(slab.allocate(33), b);  // last freed, first reused
  EXPECT_EQ(slab.allocate(33), a);
  EXPECT_EQ(slab.free_bytes(), 0U);
  slab.deallocate(other, 34);
  slab.deallocate(a, 33);
  slab.deallocate(b, 33);
  expect_intact({keep});
}

TEST(KeySlab, AChunkTailTooShortForTheNextBlockIsKeptForShorterOnes) {
  KeySlab slab;
  std::vector<Held> held;
  // 512-byte first chunk: 5 blocks of 100 leave 12 bytes, too few for the sixth.
  for (int i = 0; i < 6; ++i) held.push_back(put(slab, 100, static_cast<char>('a' + i)));
  EXPECT_EQ(slab.free_bytes(), KeySlab::kFirstChunk - 500);
  Held tail = put(slab, KeySlab::kFirstChunk - 500, 't');
  EXPECT_EQ(tail.p, held[4].p + 100);
  EXPECT_EQ(slab.free_bytes(), 0U);
  held.push_back(tail);
  expect_intact(held);
  for (Held& h : held) slab.deallocate(h.p, h.bytes.size());
}

TEST(KeySlab, SteadyChurnReusesAndNeverAsksForCompaction) {
  KeySlab slab;
  std::vector<Held> held;
  for (int i = 0; i < 5000; ++i) held.push_back(put(slab, 16 + i % 24, 'x'));
  const std::size_t bytes = slab.bytes();
  // A cache under eviction: every insert frees a key of a similar length.
  for (int round = 0; round < 50'000; ++round) {
    const std::size_t victim = (round * 7919U) % held.size();
    slab.deallocate(held[victim].p, held[victim].bytes.size());
    held[victim] = put(slab, 16 + (round * 31U) % 24, static_cast<char>('a' + round % 26));
    ASSERT_FALSE(slab.wants_compaction(held.size()));
  }
  expect_intact(held);
  EXPECT_LE(slab.bytes(), bytes + KeySlab::kLastChunk);
}

TEST(KeySlab, CompactionMovesLiveBlocksAndFreesTheRest) {
  KeySlab slab;
  std::vector<Held> held;
  for (int i = 0; i < 20'000; ++i) held.push_back(put(slab, 64, static_cast<char>('a' + i % 26)));
  // Keys grow shorter: the 64-byte blocks go free and no 24-byte key can use them.
  std::vector<Held> kept;
  for (std::size_t i = 0; i < held.size(); ++i) {
    if (i % 10 == 0) {
      kept.push_back(held[i]);
    } else {
      slab.deallocate(held[i].p, 64);
    }
  }
  for (int i = 0; i < 2000; ++i) kept.push_back(put(slab, 24, 'z'));
  ASSERT_TRUE(slab.wants_compaction(kept.size()));
  const std::size_t before = slab.bytes();
  slab.compact([&](auto&& move) {
    for (Held& h : kept) h.p = move(h.p, h.bytes.size());
  });
  expect_intact(kept);
  EXPECT_EQ(slab.free_bytes(), 0U);
  EXPECT_EQ(slab.live_bytes(), 2000U * 64 + 2000U * 24);
  EXPECT_EQ(slab.bytes(), slab.live_bytes() + 65 * sizeof(char*) + sizeof(void*));
  EXPECT_LT(slab.bytes(), before / 4);
  EXPECT_FALSE(slab.wants_compaction(kept.size()));
  // The compacted slab keeps serving and freeing.
  Held more = put(slab, 100, 'm');
  kept.push_back(more);
  expect_intact(kept);
  for (Held& h : kept) slab.deallocate(h.p, h.bytes.size());
  EXPECT_EQ(slab.live_bytes(), 0U);
}

TEST(KeySlab, TheLastBlockFreedGivesTheChunksBack) {
  KeySlab slab;
  std::vector<Held> held;
  for (int i = 0; i < 3000; ++i) held.push_back(put(slab, 50, 'c'));
  EXPECT_GT(slab.bytes(), 3000U * 50);
  for (Held& h : held) slab.deallocate(h.p, 50);
  EXPECT_EQ(slab.live_bytes(), 0U);
  EXPECT_EQ(slab.free_bytes(), 0U);
  EXPECT_LE(slab.bytes(), 2048U);  // the tables only
  Held again = put(slab, 50, 'd');
  expect_intact({again});
  slab.deallocate(again.p, 50);
}

TEST(KeySlab, BlocksPastTheLargestClassAreHeapBlocks) {
  KeySlab slab;
  EXPECT_TRUE(KeySlab::in_chunks(KeySlab::kMaxBlock));
  EXPECT_FALSE(KeySlab::in_chunks(KeySlab::kMaxBlock + 1));
  Held big = put(slab, 5000, 'b');
  Held edge = put(slab, KeySlab::kMaxBlock, 'e');
  EXPECT_EQ(slab.live_bytes(), KeySlab::kMaxBlock);  // the heap block is not the slab's
  expect_intact({big, edge});
  slab.deallocate(big.p, 5000);
  slab.deallocate(edge.p, KeySlab::kMaxBlock);
}

}  // namespace
}  // namespace stratacache::store
