#include "predict/simulator.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <vector>

#include "common/error.hpp"
#include "predict/belady.hpp"
#include "predict/trace_reader.hpp"
#include "store/policies.hpp"

namespace stratacache::predict {
namespace {

const std::vector<std::int64_t> kHandmade = {1, 2, 3, 1, 4, 2, 5, 1};

std::vector<std::int64_t> skewed(std::size_t n, int keys, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> w;
  for (int k = 0; k < keys; ++k) w.push_back(1.0 / (k + 1));
  std::discrete_distribution<int> d(w.begin(), w.end());
  std::vector<std::int64_t> out(n);
  for (auto& k : out) k = d(rng) * 7 - 1000;  // negative keys too
  return out;
}

std::vector<std::string> all_policies() {
  auto names = store::policy_names();
  names.emplace_back(kOptPolicy);
  return names;
}

TEST(Simulate, LruOnHandmadeSequence) {
  // Capacity 3: 1 2 3 miss, 1 hit, then 4 2 5 1 each miss (each evicts the LRU key).
  const auto r = simulate(kHandmade, "lru", 3);
  EXPECT_EQ(r.hits, 1U);
  EXPECT_EQ(r.misses, 7U);
  EXPECT_DOUBLE_EQ(r.hit_ratio(), 1.0 / 8);
}

TEST(Simulate, OptOnHandmadeSequence) {
  // 4 and 5 are never requested again, so OPT bypasses them: 1, 2 and 1 hit.
  const auto r = simulate(kHandmade, "opt", 3);
  EXPECT_EQ(r.hits, 3U);
  EXPECT_EQ(r.misses, 5U);
}

TEST(Simulate, OptEvictsFarthestNextUse) {
  // Capacity 2: at 3, key 1 is next used at index 4 and key 2 at 5: 2 goes; 3 is never used
  // again, so it is bypassed instead.
  const std::vector<std::int64_t> keys = {1, 2, 3, 1, 2, 3, 3};
  const auto r = simulate(keys, "opt", 2);
  // 1 m, 2 m, 3 m (2 next used at 4 is farther than 1 at 3; 3 next at 5, farther: bypass),
  // 1 h, 2 h, 3 m (both 1 and 2 never again: evict one), 3 h.
  EXPECT_EQ(r.hits, 3U);
}

TEST(Simulate, EveryPolicyCountsEveryRequest) {
  const auto keys = skewed(5000, 500, 1);
  for (const auto& p : all_policies()) {
    const auto r = simulate(keys, p, 50);
    EXPECT_EQ(r.requests(), keys.size()) << p;
  }
}

TEST(Simulate, ColdMissesOnlyWhenEverythingFits) {
  const auto keys = skewed(5000, 300, 2);
  const std::set<std::int64_t> unique(keys.begin(), keys.end());
  for (const auto& p : all_policies()) {
    EXPECT_EQ(simulate(keys, p, 1000).misses, unique.size()) << p;
  }
}

TEST(Simulate, OptBoundsEveryPolicy) {
  for (unsigned seed = 3; seed < 6; ++seed) {
    const auto keys = skewed(20000, 2000, seed);
    for (const std::uint64_t cap : {1, 10, 100, 500}) {
      const auto opt = simulate(keys, "opt", cap).hits;
      for (const auto& p : store::policy_names()) {
        EXPECT_LE(simulate(keys, p, cap).hits, opt) << p << " at " << cap;
      }
    }
  }
}

TEST(Simulate, RejectsUnknownPolicyAndZeroCapacity) {
  try {
    (void)simulate(kHandmade, "nope", 3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
    EXPECT_NE(std::string(e.what()).find("opt"), std::string::npos);
  }
  for (const auto& p : all_policies()) {
    try {
      (void)simulate(kHandmade, p, 0);
      FAIL() << "no error for " << p;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
    }
  }
}

TEST(NextUses, PointsAtTheNextRequestOfTheKey) {
  const std::vector<std::uint32_t> expected = {3, 5, 8, 7, 8, 8, 8, 8};
  EXPECT_EQ(next_uses(kHandmade), expected);
}

// The README of the traces lists exact LRU and OPT hit ratios; recompute two of them.
TEST(Simulate, MatchesReferenceTableOnGli) {
  const std::filesystem::path trace = std::filesystem::path(STRATACACHE_TRACES_DIR) / "gli.txt.gz";
  if (!std::filesystem::exists(trace)) GTEST_SKIP() << trace << " not found";
  const auto keys = read_trace(trace.string());
  ASSERT_EQ(keys.size(), 6015U);
  EXPECT_EQ(std::lround(simulate(keys, "lru", 1000).hit_ratio() * 10000), 1121);
  EXPECT_EQ(std::lround(simulate(keys, "opt", 1000).hit_ratio() * 10000), 5315);
  EXPECT_EQ(std::lround(simulate_file(trace.string(), "lru", 2000).hit_ratio() * 10000), 5741);
}

}  // namespace
}  // namespace stratacache::predict
