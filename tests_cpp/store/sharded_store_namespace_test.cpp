// Per-namespace counters and L1 timing of ShardedStore (DESIGN §4: stats per namespace).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/hash.hpp"
#include "store/lru_policy.hpp"
#include "store/sharded_store.hpp"

namespace stratacache::store {
namespace {

using LruStore = ShardedStore<std::string, LruPolicy>;
constexpr Nanos kSecond = 1'000'000'000;

class NamespaceStatsTest : public ::testing::Test {
 protected:
  LruStore make(StoreConfig c) {
    c.clock = &clock_;
    return LruStore{c};
  }
  static std::uint64_t h(std::string_view p, std::string_view k) {
    return hash_bytes(k) ^ hash_bytes(p);
  }
  void set(LruStore& s, std::string_view p, std::string_view k, std::optional<Nanos> ttl = kNoTtl,
           std::uint64_t bytes = 1) {
    s.set({p, k}, h(p, k), "v", bytes, ttl, dropped_);
  }
  bool get(LruStore& s, std::string_view p, std::string_view k) {
    return s.get({p, k}, h(p, k)).has_value();
  }
  static const StoreStats* find(const std::vector<NamespaceStats>& all, std::string_view p) {
    for (const auto& n : all) {
      if (!n.overflow && n.prefix == p) return &n.stats;
    }
    return nullptr;
  }

  ManualClock clock_{kSecond};
  std::vector<std::string> dropped_;
};

TEST_F(NamespaceStatsTest, CountsHitsMissesAndSetsPerPrefix) {
  auto s = make({.max_entries = 100, .shards = 4});
  set(s, "a:", "1");
  set(s, "a:", "2");
  set(s, "b:", "1", kNoTtl, 7);
  EXPECT_TRUE(get(s, "a:", "1"));
  EXPECT_FALSE(get(s, "a:", "3"));
  EXPECT_TRUE(get(s, "b:", "1"));
  EXPECT_TRUE(get(s, "b:", "1"));
  const auto all = s.namespace_stats();
  const StoreStats* a = find(all, "a:");
  const StoreStats* b = find(all, "b:");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->sets, 2U);
  EXPECT_EQ(a->hits, 1U);
  EXPECT_EQ(a->misses, 1U);
  EXPECT_EQ(a->entries, 2U);
  EXPECT_EQ(b->hits, 2U);
  EXPECT_EQ(b->bytes, 7U);
  // The totals are the sums of the namespaces.
  const StoreStats t = s.stats();
  EXPECT_EQ(t.hits, a->hits + b->hits);
  EXPECT_EQ(t.entries, a->entries + b->entries);
}

TEST_F(NamespaceStatsTest, EvictionsAreChargedToTheEvictedEntrysNamespace) {
  auto s = make({.max_entries = 2, .shards = 1});
  set(s, "old:", "1");
  set(s, "old:", "2");
  set(s, "new:", "1");  // evicts old:1 (LRU)
  set(s, "tmp:", "1", kSecond);
  clock_.advance(2 * kSecond);
  EXPECT_FALSE(get(s, "tmp:", "1"));
  s.expire(dropped_);
  s.erase({"new:", "1"}, h("new:", "1"), dropped_);
  const auto all = s.namespace_stats();
  EXPECT_GE(find(all, "old:")->evicted_size, 1U);
  EXPECT_EQ(find(all, "new:")->evicted_size, 0U);
  EXPECT_EQ(find(all, "new:")->evicted_explicit, 1U);
  EXPECT_EQ(find(all, "tmp:")->evicted_expired, 1U);
  EXPECT_EQ(find(all, "tmp:")->entries, 0U);
  EXPECT_EQ(find(all, "new:")->bytes, 0U);
}

TEST_F(NamespaceStatsTest, AResolvedSlotCountsLikeTheLookedUpOne) {
  auto s = make({.max_entries = 100});
  const stats::NamespaceSlot slot = s.namespace_slot("fast:");
  s.set({"fast:", "k", slot}, h("fast:", "k"), "v", 1, kNoTtl, dropped_);
  EXPECT_TRUE(s.get({"fast:", "k", slot}, h("fast:", "k")).has_value());
  EXPECT_TRUE(get(s, "fast:", "k"));
  EXPECT_EQ(find(s.namespace_stats(), "fast:")->hits, 2U);
}

TEST_F(NamespaceStatsTest, NamespacesBeyondTheBoundAreCountedInTheOverflowSlot) {
  auto s = make({.max_entries = 1000});
  for (std::size_t i = 0; i < stats::kMaxNamespaces + 5; ++i) {
    set(s, "ns" + std::to_string(i) + ":", "k");
  }
  const auto all = s.namespace_stats();
  ASSERT_EQ(all.size(), stats::kMaxNamespaces);  // kMax - 1 named, plus the overflow slot
  EXPECT_TRUE(all.back().overflow);
  EXPECT_EQ(all.back().stats.sets, 6U);
  EXPECT_EQ(s.stats().sets, stats::kMaxNamespaces + 5);
}

TEST_F(NamespaceStatsTest, TimingRecordsL1CallsOnlyWhenConfigured) {
  stats::Latencies latencies(1.0);
  auto timed = make({.max_entries = 10, .latencies = &latencies});
  set(timed, "", "a");
  EXPECT_TRUE(get(timed, "", "a"));
  EXPECT_FALSE(get(timed, "", "b"));
  timed.erase({"", "a"}, h("", "a"), dropped_);
  EXPECT_EQ(latencies.snapshot(stats::Tier::kL1, stats::Op::kGet).count, 2U);
  EXPECT_EQ(latencies.snapshot(stats::Tier::kL1, stats::Op::kSet).count, 1U);
  EXPECT_EQ(latencies.snapshot(stats::Tier::kL1, stats::Op::kDelete).count, 1U);
  EXPECT_EQ(timed.latencies(), &latencies);
  auto untimed = make({.max_entries = 10});
  EXPECT_EQ(untimed.latencies(), nullptr);
}

TEST_F(NamespaceStatsTest, CountersStayExactUnderConcurrentUse) {
  auto s = make({.max_entries = 10000, .shards = 4});
  constexpr int kEach = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&s, t] {
      const std::string p = "t" + std::to_string(t % 2) + ":";
      std::vector<std::string> dropped;
      for (int i = 0; i < kEach; ++i) {
        const std::string k = std::to_string(i % 100);
        s.set({p, k}, h(p, k), "v", 1, kNoTtl, dropped);
        (void)s.get({p, k}, h(p, k));
      }
    });
  }
  // Readers see monotone values while writers run.
  std::uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    std::uint64_t sets = 0;
    for (const auto& n : s.namespace_stats()) sets += n.stats.sets;
    EXPECT_GE(sets, last);
    last = sets;
  }
  for (auto& th : threads) th.join();
  const auto all = s.namespace_stats();
  EXPECT_EQ(find(all, "t0:")->hits, 2U * kEach);
  EXPECT_EQ(find(all, "t1:")->sets, 2U * kEach);
}

}  // namespace
}  // namespace stratacache::store
