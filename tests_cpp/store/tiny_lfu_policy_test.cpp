#include "store/tiny_lfu_policy.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/hash.hpp"
#include "policy_harness.hpp"
#include "store/ghost_climber.hpp"
#include "store/hill_climber.hpp"
#include "store/lru_policy.hpp"

namespace stratacache::store {
namespace {

using Segment = TinyLfuPolicy::Segment;
using testing::Harness;

// The ghost climber's tests pin it, so they hold if the default changes (kGhost today; the
// miniature is covered by window_miniature_test.cpp).
TinyLfuConfig ghost_config() {
  TinyLfuConfig c;
  c.adaptation = WindowAdaptation::kGhost;
  return c;
}

template <class Policy>
unsigned hot_survivors_of_scan() {
  Harness<Policy> h(100);
  for (int round = 0; round < 5; ++round) {
    for (std::uint64_t k = 0; k < 50; ++k) h.access(k);
  }
  // A scan five times the capacity: within the sketch's aging period of ten.
  for (std::uint64_t k = 1000; k < 1500; ++k) h.access(k);
  unsigned survivors = 0;
  for (std::uint64_t k = 0; k < 50; ++k) survivors += h.contains(k) ? 1 : 0;
  return survivors;
}

TEST(TinyLfuPolicy, ProtectsHotSetFromOneTimeScan) {
  EXPECT_EQ(hot_survivors_of_scan<LruPolicy>(), 0U);
  EXPECT_GE(hot_survivors_of_scan<TinyLfuPolicy>(), 48U);
}

TEST(TinyLfuPolicy, AdmitsCandidateMoreFrequentThanVictim) {
  Harness<TinyLfuPolicy> h(100);
  for (std::uint64_t k = 0; k < 100; ++k) h.access(k);
  h.access(500);
  h.access(501);  // pushes 500 out of the one-entry window: 1 vs 1, rejected
  EXPECT_FALSE(h.contains(500));
  h.access(500);  // seen twice now
  h.access(502);  // 500 becomes the candidate: 2 vs 1, admitted
  ASSERT_TRUE(h.contains(500));
  EXPECT_EQ(h.policy.segment_of(*h.id_of(500)), Segment::kProbation);
  // Later one-time keys lose against the victims and leave, 500 stays.
  for (std::uint64_t k = 600; k < 700; ++k) h.access(k);
  EXPECT_TRUE(h.contains(500));
}

TEST(TinyLfuPolicy, MissesFeedTheSketch) {
  TinyLfuPolicy p(100);
  p.on_miss(mix64(1));
  p.on_miss(mix64(1));
  EXPECT_EQ(p.frequency(mix64(1)), 2U);
  p.on_insert(0, mix64(1), 1);  // the set after the last miss does not count again
  EXPECT_EQ(p.frequency(mix64(1)), 2U);
  p.on_insert(1, mix64(2), 1);  // a blind write counts once
  EXPECT_EQ(p.frequency(mix64(2)), 1U);
}

TEST(TinyLfuPolicy, ProbationHitPromotesAndProtectedOverflowDemotes) {
  Harness<TinyLfuPolicy> h(100);
  for (std::uint64_t k = 0; k < 100; ++k) h.access(k);
  ASSERT_EQ(h.policy.segment_of(*h.id_of(0)), Segment::kProbation);
  ASSERT_EQ(h.policy.segment_of(*h.id_of(99)), Segment::kWindow);
  h.access(0);
  EXPECT_EQ(h.policy.segment_of(*h.id_of(0)), Segment::kProtected);
  // The protected segment holds 80% of main (79 entries): the 80th promotion demotes key 0.
  for (std::uint64_t k = 1; k < 80; ++k) h.access(k);
  EXPECT_EQ(h.policy.segment_of(*h.id_of(0)), Segment::kProbation);
  EXPECT_EQ(h.policy.segment_of(*h.id_of(1)), Segment::kProtected);
}

TEST(TinyLfuPolicy, InitialSegmentSizes) {
  TinyLfuPolicy p(1000);
  EXPECT_EQ(p.window_capacity(), 10U);
  EXPECT_EQ(p.protected_capacity(), 792U);
  TinyLfuPolicy one(1);
  EXPECT_EQ(one.window_capacity(), 1U);
  EXPECT_EQ(one.protected_capacity(), 0U);
}

TEST(TinyLfuPolicy, EntryHeavierThanSegmentsStillCached) {
  Harness<TinyLfuPolicy> h(100);
  for (std::uint64_t k = 0; k < 40; ++k) h.access(k);
  h.access(7777, 90);  // heavier than window and protected segment
  h.access(7777, 90);
  h.access(7777, 90);
  EXPECT_LE(h.total(), 100U);
  EXPECT_TRUE(h.contains(7777));
  EXPECT_EQ(h.policy.segment_of(*h.id_of(7777)), Segment::kProbation);
}

TEST(TinyLfuPolicy, EntryHeavierThanCapacityLeavesFirst) {
  Harness<TinyLfuPolicy> h(100);
  for (std::uint64_t k = 0; k < 50; ++k) h.access(k);
  h.access(9999, 150);
  EXPECT_FALSE(h.contains(9999));
  EXPECT_EQ(h.size(), 50U);
}

TEST(TinyLfuPolicy, WindowGrowsOnRecencyWorkload) {
  // Each key is used twice, ten requests apart, then never again: only recency predicts hits.
  // The rejected candidates come back while the window ghost (a quarter of the capacity) still
  // remembers them, so the window should take most of the cache.
  Harness<TinyLfuPolicy> h(100);
  h.policy = TinyLfuPolicy(100, ghost_config());
  unsigned hits = 0;
  for (std::uint64_t t = 0; t < 200000; ++t) {
    h.access(t);
    if (t >= 10) hits += h.access(t - 10) ? 1 : 0;
  }
  EXPECT_GE(h.policy.window_capacity(), 50U);
  EXPECT_GT(hits, 190000U);
}

TEST(TinyLfuPolicy, WindowGrowsPastTheProtectedShareWhenOnlyRecencyPays) {
  // Each request brings a fresh key and rereads one of the last 950, at random: only recency
  // predicts hits, and an LRU of 1,000 entries keeps most rereads. Keeping the oldest of them
  // takes a window of most of the cache, more than a window capped at the
  // protected segment's share (80% of main) could have.
  const auto run = [](double max_window) {
    TinyLfuConfig c = ghost_config();
    c.max_window = max_window;
    Harness<TinyLfuPolicy> h(1000);
    h.policy = TinyLfuPolicy(1000, c);
    std::uint64_t hits = 0;
    for (std::uint64_t t = 0; t < 300000; ++t) {
      h.access(t);
      if (t >= 950) hits += h.access(t - 1 - mix64(t) % 950) ? 1 : 0;
    }
    return std::pair{h.policy.window_capacity(), hits};
  };
  const auto [window, hits] = run(1.0);
  EXPECT_GT(window, 800U);
  EXPECT_LE(window, 999U);  // main keeps at least one unit
  const auto [capped_window, capped_hits] = run(0.8);
  EXPECT_LE(capped_window, 800U);
  EXPECT_GT(hits, capped_hits);
  Harness<LruPolicy> lru(1000);
  std::uint64_t lru_hits = 0;
  for (std::uint64_t t = 0; t < 300000; ++t) {
    lru.access(t);
    if (t >= 950) lru_hits += lru.access(t - 1 - mix64(t) % 950) ? 1 : 0;
  }
  EXPECT_GT(hits * 100, lru_hits * 95);  // within 5% of an LRU's hits
}

TEST(TinyLfuPolicy, WindowStaysSmallOnLoop) {
  // A loop slightly longer than the cache: LRU hits nothing, a frequency-filtered main holds
  // most of the loop. Ghost hits of the window alone would argue for growing it; the hits main
  // would lose must win.
  Harness<TinyLfuPolicy> h(100);
  h.policy = TinyLfuPolicy(100, ghost_config());
  unsigned hits = 0;
  for (std::uint64_t t = 0; t < 200000; ++t) hits += h.access(t % 110) ? 1 : 0;
  EXPECT_LE(h.policy.window_capacity(), 20U);
  EXPECT_GT(hits, 150000U);
}

// Half the requests go to a hot set that fits main, the other half to fresh keys each read twice
// in a row. The second reads hit at the window's most recent end, where any window keeps them:
// counted as the window's loss they would argue for a window most of the cache, which the fresh
// keys then fill at the hot set's expense.
template <class Policy>
std::uint64_t hot_set_with_immediate_reuse(Harness<Policy>& h) {
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
}

TEST(TinyLfuPolicy, WindowIgnoresHitsAwayFromItsMargin) {
  Harness<TinyLfuPolicy> h(1000);
  h.policy = TinyLfuPolicy(1000, ghost_config());
  Harness<LruPolicy> lru(1000);
  const std::uint64_t hits = hot_set_with_immediate_reuse(h);
  EXPECT_LE(h.policy.window_capacity(), 500U);
  EXPECT_GT(hits, hot_set_with_immediate_reuse(lru));
}

TEST(TinyLfuPolicy, FirstSamplesAfterTheFillAreShort) {
  // The recency workload of WindowGrowsOnRecencyWorkload; a full sample is 10,000 requests.
  const auto window_after = [](unsigned halvings, std::uint64_t requests) {
    TinyLfuConfig c = ghost_config();
    c.warmup_halvings = halvings;
    Harness<TinyLfuPolicy> h(100);
    h.policy = TinyLfuPolicy(100, c);
    for (std::uint64_t t = 0; t < requests / 2; ++t) {
      h.access(t);
      if (t >= 10) h.access(t - 10);
    }
    return h.policy.window_capacity();
  };
  EXPECT_EQ(window_after(0, 9000), 1U);  // no full sample yet: the initial 1%
  EXPECT_GT(window_after(2, 9000), 1U);  // a quarter sample, then a half, already moved it
  EXPECT_GE(window_after(2, 100000), 50U);
}

TEST(GhostClimber, BandIsTheGhostSize) {
  const GhostClimber c(1000, GhostClimberConfig{});
  EXPECT_EQ(c.band(1000), 250U);
  EXPECT_EQ(c.band(10), 16U);  // never below the ghosts' floor
}

TEST(TinyLfuPolicy, CaffeineConfigUsesTheHillClimber) {
  const TinyLfuConfig c = TinyLfuConfig::caffeine();
  EXPECT_EQ(c.adaptation, WindowAdaptation::kHillClimber);
  Harness<TinyLfuPolicy> h(100);
  h.policy = TinyLfuPolicy(100, c);
  for (std::uint64_t t = 0; t < 20000; ++t) h.access(t % 150);
  EXPECT_LE(h.policy.weight(), 100U);
}

TEST(GhostClimber, FollowsTheOneSidedCase) {
  GhostClimber c(1000, GhostClimberConfig{});
  for (std::uint64_t k = 0; k < 100; ++k) c.record_eviction(mix64(k), /*from_window=*/true, 1000);
  for (std::uint64_t k = 0; k < 100; ++k) c.record_miss(mix64(k));
  EXPECT_EQ(c.adjust(10, 200, 1000), 200);  // all evidence for a larger window: a full step
  for (std::uint64_t k = 0; k < 100; ++k) c.record_eviction(mix64(k), /*from_window=*/false, 1000);
  for (std::uint64_t k = 0; k < 100; ++k) c.record_miss(mix64(k));
  EXPECT_EQ(c.adjust(10, 200, 1000), -100);  // a reversal: the step halves
  EXPECT_EQ(c.adjust(10, 200, 1000), 0);     // no evidence, no move
}

// Unanimous evidence for a larger (+1) or smaller (-1) window, then the move it gives.
std::int64_t move_after(GhostClimber& c, int sign, std::uint64_t& next_key) {
  for (int i = 0; i < 10; ++i) {
    const std::uint64_t h = mix64(++next_key);
    c.record_eviction(h, /*from_window=*/sign > 0, 1000);
    c.record_miss(h);
  }
  return c.adjust(10, 200, 1000);
}

TEST(GhostClimber, StepHalvesOnReversalsAndRegrowsWhileTheSignHolds) {
  GhostClimber c(1000, GhostClimberConfig{});  // step 0.2, floor 0.0125, x2 / x0.5
  std::uint64_t key = 0;
  EXPECT_EQ(move_after(c, +1, key), 200);
  EXPECT_EQ(move_after(c, -1, key), -100);
  EXPECT_EQ(move_after(c, +1, key), 50);
  EXPECT_EQ(move_after(c, -1, key), -25);
  EXPECT_EQ(move_after(c, +1, key), 12);  // the floor: 1.25% of 1000
  EXPECT_EQ(move_after(c, -1, key), -12);
  EXPECT_DOUBLE_EQ(c.step(), 0.0125);
  EXPECT_EQ(move_after(c, -1, key), -25);  // the same way twice: the step doubles
  EXPECT_EQ(move_after(c, -1, key), -50);
  EXPECT_EQ(move_after(c, -1, key), -100);
  EXPECT_EQ(move_after(c, -1, key), -200);
  EXPECT_EQ(move_after(c, -1, key), -200);  // never past `step`
  c.clear();
  EXPECT_EQ(move_after(c, +1, key), 200);  // a cleared climber starts at the full step
}

TEST(GhostClimber, WeighsGainAgainstLoss) {
  GhostClimber c(1000, GhostClimberConfig{});
  for (std::uint64_t k = 0; k < 50; ++k) c.record_eviction(mix64(k), /*from_window=*/true, 1000);
  for (std::uint64_t k = 0; k < 50; ++k) c.record_miss(mix64(k));  // 50 / 250 = 0.2 per entry
  for (int i = 0; i < 400; ++i) c.record_probation_hit();          // 400 / 200 = 2 per entry
  EXPECT_LT(c.adjust(10, 200, 1000), 0);  // main's margin is worth more: shrink the window
}

TEST(GhostClimber, SamplesOneKeyInEightOnlyOnALargeCache) {
  const GhostClimber small(1000, GhostClimberConfig{});  // a band of 250: every key
  EXPECT_EQ(small.sample_shift(), 0U);
  const GhostClimber large(100000, GhostClimberConfig{});  // a band of 25,000
  EXPECT_EQ(large.sample_shift(), 3U);
  unsigned followed = 0;
  for (std::uint64_t k = 0; k < 80000; ++k) {
    EXPECT_TRUE(small.sampled(mix64(k)));
    followed += large.sampled(mix64(k)) ? 1U : 0U;
  }
  EXPECT_NEAR(followed, 10000, 500);
}

TEST(GhostClimber, ScalesSampledVotesBack) {
  // As many window ghost hits per entry (growth's gain) as probation hits at main's margin
  // (growth's loss): no case either way. Unscaled, the sampled votes would read as an eighth,
  // and the window would shrink by most of a step.
  GhostClimber c(100000, GhostClimberConfig{});
  for (std::uint64_t k = 0; k < 8000; ++k) {
    c.record_eviction(mix64(k), /*from_window=*/true, 100000);
  }
  for (std::uint64_t k = 0; k < 8000; ++k) c.record_miss(mix64(k));
  for (int i = 0; i < 8000; ++i) c.record_probation_hit();
  EXPECT_LT(std::abs(c.adjust(25000, 25000, 100000)), 2000);  // a full step is 20,000
}

TEST(HillClimber, FirstStepShrinksThenFollowsHitRate) {
  HillClimber c(1000, HillClimberConfig{});
  for (int i = 0; i < 50; ++i) c.record_hit();
  for (int i = 0; i < 50; ++i) c.record_miss();
  EXPECT_EQ(c.adjust(), -62);  // 6.25% of 1000, towards a smaller window
  // Better than before by more than the restart threshold: full step in the same direction.
  for (int i = 0; i < 70; ++i) c.record_hit();
  for (int i = 0; i < 30; ++i) c.record_miss();
  EXPECT_EQ(c.adjust(), -62);
  // Slightly worse: reverse, with a decayed step.
  for (int i = 0; i < 69; ++i) c.record_hit();
  for (int i = 0; i < 31; ++i) c.record_miss();
  EXPECT_EQ(c.adjust(), 62);
  for (int i = 0; i < 69; ++i) c.record_hit();
  for (int i = 0; i < 31; ++i) c.record_miss();
  EXPECT_EQ(c.adjust(), 61);  // unchanged rate keeps direction, step decays by 2%
  EXPECT_EQ(c.sampled(), 0U);
}

}  // namespace
}  // namespace stratacache::store
