#include "store/s3_fifo_policy.hpp"

#include <gtest/gtest.h>

#include "common/hash.hpp"
#include "policy_harness.hpp"

namespace stratacache::store {
namespace {

using Queue = S3FifoPolicy::Queue;
using testing::Harness;

// Capacity 10: the small queue holds 1, main 9. Fills main with hot keys 0..9 (all hit once),
// then runs one-time keys from 100 on, so that later inserts go through the small queue.
Harness<S3FifoPolicy> warmed() {
  Harness<S3FifoPolicy> h(10);
  for (std::uint64_t k = 0; k < 10; ++k) h.access(k);
  for (std::uint64_t k = 0; k < 10; ++k) h.access(k);
  for (std::uint64_t k = 100; k < 103; ++k) h.access(k);
  return h;
}

TEST(S3FifoPolicy, OneHitWondersLeaveThroughSmallQueue) {
  Harness<S3FifoPolicy> h = warmed();
  unsigned hot_before = 0;
  for (std::uint64_t k = 0; k < 10; ++k) hot_before += h.contains(k) ? 1 : 0;
  const std::size_t evicted_before = h.evicted.size();
  for (std::uint64_t k = 200; k < 300; ++k) {
    h.access(k);
    ASSERT_EQ(h.policy.queue_of(*h.id_of(k)), Queue::kSmall);
  }
  // Every eviction of the scan was a scanned key, leaving through the small queue.
  for (std::size_t i = evicted_before; i < h.evicted.size(); ++i) {
    EXPECT_GE(h.evicted[i], 100U) << "hot key " << h.evicted[i] << " evicted by the scan";
  }
  unsigned hot_after = 0;
  for (std::uint64_t k = 0; k < 10; ++k) hot_after += h.contains(k) ? 1 : 0;
  EXPECT_EQ(hot_after, hot_before);
  EXPECT_GE(hot_after, 8U);
  EXPECT_TRUE(h.policy.in_ghost(mix64(298)));
  EXPECT_FALSE(h.policy.in_ghost(mix64(5)));
}

TEST(S3FifoPolicy, GhostHitGoesToMain) {
  Harness<S3FifoPolicy> h = warmed();
  for (std::uint64_t k = 200; k < 210; ++k) h.access(k);
  ASSERT_FALSE(h.contains(207));
  ASSERT_TRUE(h.policy.in_ghost(mix64(207)));
  h.access(207);
  EXPECT_EQ(h.policy.queue_of(*h.id_of(207)), Queue::kMain);
  EXPECT_FALSE(h.policy.in_ghost(mix64(207)));
}

TEST(S3FifoPolicy, GhostRemembersAboutMainsEntryCount) {
  Harness<S3FifoPolicy> h = warmed();
  for (std::uint64_t k = 1000; k < 2000; ++k) h.access(k);
  EXPECT_TRUE(h.policy.in_ghost(mix64(1998)));
  EXPECT_FALSE(h.policy.in_ghost(mix64(1500)));
}

TEST(S3FifoPolicy, OneHitInSmallQueueIsNotEnough) {
  Harness<S3FifoPolicy> h = warmed();
  h.access(500);
  h.access(500);  // one hit: below the threshold of two
  h.access(501);
  EXPECT_FALSE(h.contains(500));
  EXPECT_TRUE(h.policy.in_ghost(mix64(500)));
}

TEST(S3FifoPolicy, HitsInSmallQueueEarnMain) {
  Harness<S3FifoPolicy> h = warmed();
  h.access(500);
  ASSERT_EQ(h.policy.queue_of(*h.id_of(500)), Queue::kSmall);
  h.access(500);  // two hits while in the small queue
  h.access(500);
  h.access(501);  // pushes 500 out of the small queue
  ASSERT_TRUE(h.contains(500));
  EXPECT_EQ(h.policy.queue_of(*h.id_of(500)), Queue::kMain);
}

TEST(S3FifoPolicy, MainGivesHitEntriesAnotherRound) {
  // Keys that were hit in main are reinserted; the first unhit key in FIFO order leaves.
  Harness<S3FifoPolicy> h = warmed();
  std::vector<std::uint64_t> in_main;
  for (std::uint64_t k = 0; k < 10; ++k) {
    if (h.contains(k) && h.policy.queue_of(*h.id_of(k)) == Queue::kMain) in_main.push_back(k);
  }
  ASSERT_GE(in_main.size(), 3U);
  for (std::size_t i = 1; i < in_main.size(); ++i) h.access(in_main[i]);
  // Ghost hits are admitted to main directly and so force main evictions.
  for (std::uint64_t k = 200; k < 212; ++k) h.access(k);
  h.access(205);
  EXPECT_FALSE(h.contains(in_main[0]));
  for (std::size_t i = 1; i < in_main.size(); ++i) EXPECT_TRUE(h.contains(in_main[i]));
}

TEST(S3FifoPolicy, HeavierThanCapacityLeavesFirst) {
  Harness<S3FifoPolicy> h(100);
  for (std::uint64_t k = 0; k < 50; ++k) h.access(k, 2);
  h.access(999, 150);
  EXPECT_FALSE(h.contains(999));
  EXPECT_EQ(h.size(), 50U);
}

// Hashes of keys [from, to) the ghost remembers.
std::size_t remembered(const S3Ghost& g, std::uint64_t from, std::uint64_t to, std::size_t cap) {
  std::size_t n = 0;
  for (std::uint64_t k = from; k < to; ++k) n += g.contains(mix64(k), cap) ? 1 : 0;
  return n;
}

// A bucket with more than 8 live hashes loses its oldest early, so "all" is "almost all" here;
// a hash older than the capacity is never remembered.
TEST(S3Ghost, RemembersTheLastCapacityPushes) {
  S3Ghost g;
  for (std::uint64_t k = 0; k < 1000; ++k) g.push(mix64(k), 100);
  EXPECT_GE(remembered(g, 900, 1000, 100), 97U);
  EXPECT_TRUE(g.contains(mix64(999), 100));
  EXPECT_EQ(remembered(g, 0, 900, 100), 0U);
  // A smaller capacity at lookup forgets more, at once.
  EXPECT_EQ(remembered(g, 900, 950, 50), 0U);
  EXPECT_GE(remembered(g, 950, 1000, 50), 48U);
}

TEST(S3Ghost, TakeForgets) {
  S3Ghost g;
  EXPECT_FALSE(g.take(mix64(1), 10));
  g.push(mix64(1), 10);
  g.push(mix64(2), 10);
  EXPECT_TRUE(g.take(mix64(1), 10));
  EXPECT_FALSE(g.take(mix64(1), 10));
  EXPECT_FALSE(g.contains(mix64(1), 10));
  EXPECT_TRUE(g.contains(mix64(2), 10));
}

TEST(S3Ghost, PushedAgainCountsFromTheNewestPush) {
  S3Ghost g;
  g.push(mix64(7), 4);
  for (std::uint64_t k = 100; k < 102; ++k) g.push(mix64(k), 4);
  g.push(mix64(7), 4);
  for (std::uint64_t k = 200; k < 203; ++k) g.push(mix64(k), 4);
  EXPECT_TRUE(g.contains(mix64(7), 4));
  EXPECT_TRUE(g.take(mix64(7), 4));
  EXPECT_FALSE(g.contains(mix64(7), 4));  // one copy, taken
}

TEST(S3Ghost, KeepsWhatItRemembersWhileItGrows) {
  S3Ghost g;
  // Capacity grows with main's entry count: the table doubles many times on the way.
  for (std::uint64_t k = 0; k < 20000; ++k) g.push(mix64(k), 1 + k / 2);
  EXPECT_GE(remembered(g, 10001, 20000, 10000), 9900U);
  EXPECT_EQ(remembered(g, 0, 10000, 10000), 0U);
  g.clear();
  EXPECT_FALSE(g.contains(mix64(19999), 10000));
}

}  // namespace
}  // namespace stratacache::store
