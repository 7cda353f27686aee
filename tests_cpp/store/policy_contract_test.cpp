// Properties every eviction policy keeps, run against each policy of `AllPolicies`.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "policy_harness.hpp"
#include "store/policies.hpp"
#include "store/sharded_store.hpp"

namespace stratacache::store {
namespace {

template <class Tags>
struct TypesOf;
template <class... P>
struct TypesOf<std::tuple<std::type_identity<P>...>> {
  using type = ::testing::Types<P...>;
};

template <class P>
class PolicyContract : public ::testing::Test {};
TYPED_TEST_SUITE(PolicyContract, typename TypesOf<AllPolicies>::type);

using testing::Harness;

// A skewed key stream (about Zipf 1 over `keys` keys) from a fixed seed.
std::vector<std::uint64_t> skewed_keys(std::size_t n, std::uint64_t keys, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> cdf(keys);
  double sum = 0;
  for (std::uint64_t k = 0; k < keys; ++k) cdf[k] = sum += 1.0 / static_cast<double>(k + 1);
  std::uniform_real_distribution<double> u(0, sum);
  std::vector<std::uint64_t> out(n);
  for (auto& k : out) {
    k = static_cast<std::uint64_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
  }
  return out;
}

TYPED_TEST(PolicyContract, NeverExceedsCapacity) {
  Harness<TypeParam> h(64);
  for (const auto k : skewed_keys(20000, 1000, 1)) {
    h.access(k);
    ASSERT_LE(h.total(), 64U);
    ASSERT_EQ(h.policy.weight(), h.total());
  }
  EXPECT_EQ(h.size(), 64U);
}

TYPED_TEST(PolicyContract, EmptyHasNoVictim) {
  TypeParam p(10);
  EXPECT_EQ(p.victim(), std::nullopt);
  EXPECT_EQ(p.weight(), 0U);
}

TYPED_TEST(PolicyContract, VictimIsLiveAfterExplicitRemovals) {
  Harness<TypeParam> h(50);
  std::mt19937_64 rng(7);
  for (const auto k : skewed_keys(20000, 400, 2)) {
    h.access(k);  // the harness asserts every victim is live
    if (rng() % 5 == 0) {
      const std::uint64_t gone = rng() % 400;
      if (h.contains(gone)) h.erase(gone);
    }
    ASSERT_EQ(h.policy.weight(), h.total());
  }
}

TYPED_TEST(PolicyContract, DrainsCompletelyThroughVictims) {
  TypeParam p(100);
  for (EntryId id = 0; id < 30; ++id) p.on_insert(id, mix64(id), 1);
  for (EntryId id = 0; id < 30; id += 3) p.on_access(id, mix64(id));
  std::vector<bool> seen(30, false);
  for (int i = 0; i < 30; ++i) {
    const auto v = p.victim();
    ASSERT_TRUE(v.has_value());
    ASSERT_LT(*v, 30U);
    ASSERT_FALSE(seen[*v]) << "victim " << *v << " returned twice";
    seen[*v] = true;
    p.on_remove(*v);
  }
  EXPECT_EQ(p.victim(), std::nullopt);
  EXPECT_EQ(p.weight(), 0U);
}

TYPED_TEST(PolicyContract, DeterministicForASequence) {
  const auto keys = skewed_keys(20000, 2000, 3);
  Harness<TypeParam> a(100), b(100);
  for (const auto k : keys) a.access(k);
  for (const auto k : keys) b.access(k);
  EXPECT_EQ(a.evicted, b.evicted);
}

TYPED_TEST(PolicyContract, WeightedEntries) {
  Harness<TypeParam> h(1000);
  std::mt19937_64 rng(11);
  for (const auto k : skewed_keys(20000, 3000, 4)) {
    const Weight w = 1 + (k * 7919) % 50;  // a key keeps its weight
    if (h.contains(k) && rng() % 10 == 0) {
      h.update(k, 1 + rng() % 50);
    } else {
      h.access(k, w);
    }
    ASSERT_LE(h.total(), 1000U);
    ASSERT_EQ(h.policy.weight(), h.total());
  }
  EXPECT_GT(h.size(), 1000U / 50);
}

// Policies keep no weights while all are 1; the first heavier entry must not lose the others'.
TYPED_TEST(PolicyContract, UnitWeightsThenHeavierOnes) {
  Harness<TypeParam> h(200);
  for (std::uint64_t k = 0; k < 500; ++k) {
    h.access(k % 300, 1);
    ASSERT_EQ(h.policy.weight(), h.total());
  }
  for (std::uint64_t k = 0; k < 2000; ++k) {
    h.access(k % 400, 1 + k % 5);
    ASSERT_LE(h.total(), 200U);
    ASSERT_EQ(h.policy.weight(), h.total());
  }
}

TYPED_TEST(PolicyContract, CapacityOne) {
  Harness<TypeParam> h(1);
  for (const auto k : skewed_keys(2000, 10, 5)) {
    h.access(k);
    ASSERT_LE(h.size(), 1U);
  }
  EXPECT_EQ(h.size(), 1U);
}

TYPED_TEST(PolicyContract, EntryHeavierThanCapacity) {
  Harness<TypeParam> h(100);
  for (std::uint64_t k = 0; k < 20; ++k) h.access(k, 4);
  h.access(12345, 101);  // whether the others survive is up to the policy
  EXPECT_FALSE(h.contains(12345));
  EXPECT_LE(h.total(), 100U);
  h.access(12346, 100);  // exactly the capacity fits
  EXPECT_LE(h.total(), 100U);
}

TYPED_TEST(PolicyContract, ClearForgetsEverything) {
  Harness<TypeParam> h(20);
  for (std::uint64_t k = 0; k < 100; ++k) h.access(k % 37);
  h.policy.clear();
  EXPECT_EQ(h.policy.weight(), 0U);
  EXPECT_EQ(h.policy.victim(), std::nullopt);
  TypeParam& p = h.policy;
  for (EntryId id = 0; id < 5; ++id) p.on_insert(id, mix64(id + 500), 2);
  EXPECT_EQ(p.weight(), 10U);
  EXPECT_TRUE(p.victim().has_value());
}

TYPED_TEST(PolicyContract, DrivesTheShardedStore) {
  ShardedStore<std::string, TypeParam> store{StoreConfig{.max_entries = 8, .shards = 1}};
  std::vector<std::string> dropped;
  for (const auto k : skewed_keys(2000, 100, 6)) {
    const std::string key = std::to_string(k);
    if (!store.get({"", key}, mix64(k))) store.set({"", key}, mix64(k), key, 1, kNoTtl, dropped);
    ASSERT_LE(store.size(), 8U);
  }
  EXPECT_EQ(store.size(), 8U);
  EXPECT_EQ(store.policy_name(), TypeParam::kName);
}

TEST(Policies, DefaultIsRegistered) {
  const auto names = policy_names();
  EXPECT_NE(std::find(names.begin(), names.end(), std::string(kDefaultPolicy)), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "tinylfu"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "s3fifo"), names.end());
}

}  // namespace
}  // namespace stratacache::store
