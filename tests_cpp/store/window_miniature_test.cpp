#include "store/window_miniature.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include "common/hash.hpp"
#include "policy_harness.hpp"
#include "store/lru_policy.hpp"
#include "store/tiny_lfu_policy.hpp"

namespace stratacache::store {
namespace {

using testing::Harness;

TEST(WindowMiniature, SamplesTheShadowsShareOfKeys) {
  const WindowMiniature m(65536, MiniatureConfig{});
  EXPECT_DOUBLE_EQ(m.rate(), 1024.0 / 65536.0);
  unsigned sampled = 0;
  for (std::uint64_t k = 0; k < 1'000'000; ++k) sampled += m.sampled(mix64(k)) ? 1 : 0;
  EXPECT_NEAR(sampled, 1'000'000 / 64, 1'000'000 / 64 / 10);
  // Keyed on the hash: a key is in or out for good.
  EXPECT_EQ(m.sampled(mix64(7)), m.sampled(mix64(7)));
}

TEST(WindowMiniature, SmallCacheSamplesEveryKey) {
  const WindowMiniature m(500, MiniatureConfig{});
  EXPECT_DOUBLE_EQ(m.rate(), 1.0);
  for (std::uint64_t k = 0; k < 10000; ++k) ASSERT_TRUE(m.sampled(mix64(k)));
  MiniatureConfig capped;
  capped.max_rate = 0.25;
  EXPECT_DOUBLE_EQ(WindowMiniature(500, capped).rate(), 0.25);
}

// Feeds `requests` of `key_of(t)` and returns the share chosen at the end.
template <class KeyOf>
double chosen_after(Weight capacity, std::uint64_t requests, KeyOf key_of) {
  WindowMiniature m(capacity, MiniatureConfig{});
  double share = -1;
  for (std::uint64_t t = 0; t < requests; ++t) {
    const std::uint64_t h = mix64(key_of(t));
    if (m.sampled(h) && m.request(h)) share = m.choose();
  }
  return share;
}

TEST(WindowMiniature, ChoosesASmallWindowOnALoop) {
  // A loop slightly longer than the cache: a large window is an LRU, which hits nothing.
  EXPECT_LE(chosen_after(100, 200000, [](std::uint64_t t) { return t % 110; }), 0.07);
}

TEST(WindowMiniature, ChoosesALargeWindowWhenOnlyRecencyPays) {
  // Each key read twice, 60 requests apart: only a window that holds 60 keys keeps them.
  const double share = chosen_after(100, 200000, [](std::uint64_t t) {
    return t % 2 == 0 ? t / 2 : (t / 2 >= 30 ? t / 2 - 30 : t / 2);
  });
  EXPECT_GE(share, 0.5);
}

TEST(WindowMiniature, KeepsItsChoiceWhenNoShadowLeads) {
  // Every shadow misses every request (fresh keys): no lead, so the first share stays.
  EXPECT_DOUBLE_EQ(chosen_after(100, 20000, [](std::uint64_t t) { return t; }),
                   MiniatureConfig{}.windows.front());
}

TinyLfuConfig miniature_config() {
  TinyLfuConfig c;
  c.adaptation = WindowAdaptation::kMiniature;
  return c;
}

TEST(TinyLfuPolicyMiniature, WindowGrowsWhenOnlyRecencyPays) {
  // Each key read twice, 300 steps apart: 600 other keys are used in between, so only a window
  // of more than 600 entries (the 0.7 share) keeps them; main's frequency filter never helps.
  Harness<TinyLfuPolicy> h(1000);
  h.policy = TinyLfuPolicy(1000, miniature_config());
  std::uint64_t hits = 0;
  for (std::uint64_t t = 0; t < 300000; ++t) {
    h.access(t);
    if (t >= 300) hits += h.access(t - 300) ? 1 : 0;
  }
  EXPECT_GE(h.policy.window_capacity(), 700U);
  EXPECT_GT(hits, 270000U);
}

TEST(TinyLfuPolicyMiniature, WindowStaysSmallOnLoop) {
  Harness<TinyLfuPolicy> h(100);
  h.policy = TinyLfuPolicy(100, miniature_config());
  unsigned hits = 0;
  for (std::uint64_t t = 0; t < 200000; ++t) hits += h.access(t % 110) ? 1 : 0;
  EXPECT_LE(h.policy.window_capacity(), 10U);
  EXPECT_GT(hits, 150000U);
}

TEST(TinyLfuPolicyMiniature, BeatsLruOnAHotSetWithImmediateReuse) {
  // Half the requests go to a hot set that fits main, the other half to fresh keys read twice in
  // a row, which any window keeps: a large window would let the fresh keys crowd out the hot set.
  const auto run = [](auto& h) {
    std::uint64_t hits = 0;
    std::uint64_t fresh = std::uint64_t{1} << 30;
    for (std::uint64_t t = 0; t < 400000; ++t) {
      if (t % 2 == 0) {
        hits += h.access(mix64(t) % 900) ? 1 : 0;
      } else {
        ++fresh;
        hits += h.access(fresh) ? 1 : 0;
        hits += h.access(fresh) ? 1 : 0;
      }
    }
    return hits;
  };
  Harness<TinyLfuPolicy> h(1000);
  h.policy = TinyLfuPolicy(1000, miniature_config());
  Harness<LruPolicy> lru(1000);
  const std::uint64_t hits = run(h);
  EXPECT_LE(h.policy.window_capacity(), 500U);
  EXPECT_GT(hits, run(lru));
}

TEST(TinyLfuPolicyMiniature, ClearStartsOverAtTheInitialWindow) {
  Harness<TinyLfuPolicy> h(1000);
  h.policy = TinyLfuPolicy(1000, miniature_config());
  for (std::uint64_t t = 0; t < 300000; ++t) {
    h.access(t);
    if (t >= 300) h.access(t - 300);
  }
  ASSERT_GT(h.policy.window_capacity(), 10U);
  h.policy.clear();
  EXPECT_EQ(h.policy.window_capacity(), 10U);
  EXPECT_EQ(h.policy.weight(), 0U);
}

}  // namespace
}  // namespace stratacache::store
