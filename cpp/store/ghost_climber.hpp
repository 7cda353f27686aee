// Sizing W-TinyLFU's admission window from ghost hits: what each side would gain with more space
// against what the other side would lose, measured within one sample.
#pragma once

#include <cstddef>
#include <cstdint>

#include "store/eviction_policy.hpp"
#include "store/ghost_queue.hpp"

namespace stratacache::store {

/// Tuning of `GhostClimber`; fractions are of the capacity.
struct GhostClimberConfig {
  double step = 0.20;                   ///< the largest move, when one side's case is unanimous
  double min_step = 0.0125;             ///< the smallest, after repeated reversals (step / 16)
  double step_up = 2.0;                 ///< after two moves the same way the step grows by this...
  double step_down = 0.5;               ///< ...and after a reversal it shrinks by this (Rprop [2])
  double ghost_share = 0.25;            ///< hashes each ghost remembers, per entry held
  unsigned max_sample_shift = 3;        ///< the ghosts follow 1 key in up to 2^this...
  std::size_t min_sampled_ghost = 128;  ///< ...while each still holds at least this many
};

/// Proposes how much capacity to move from the main space to the window (or back).
///
/// Caffeine's hill climber compares the hit rate of consecutive samples, so a change of the
/// workload between two samples reads as the effect of the last step; on traces with phases
/// (the hit rate of a disk trace can swing fivefold between samples) it wanders. This climber
/// compares the two sides within one sample instead, in the spirit of ARC's ghost lists [1]:
///
///  - growing the window would have kept the entries the window side gave up last (candidates
///    that lost admission): misses on hashes in the window ghost are its gain; it would cost
///    main its least valuable entries, estimated by the hits per entry of probation, main's LRU
///    end;
///  - shrinking the window is the mirror image: misses on hashes in the main ghost (evicted
///    victims) against the hits per entry of the window.
///
/// Each term is a rate per entry of space; the move is the current step times the normalised
/// difference (grow gain - grow loss) - (shrink gain - shrink loss), in [-1, 1], so it is large
/// when the evidence is one-sided and small when the sides balance. Counting the loss matters:
/// on a loop slightly larger than the cache the window ghost alone would keep voting to grow the
/// window until the cache degenerates to LRU and hits nothing.
///
/// The step adapts as in Rprop [2]: it starts at `step`, grows by `step_up` (up to `step`) while
/// the balance keeps its sign and shrinks by `step_down` (down to `min_step`) when it flips. Near
/// the split where the sides balance, the samples' noise flips the sign and the window settles
/// instead of swinging by a fifth of the cache each sample; a new workload phase makes the sign
/// steady again and the step is back to full within a few samples.
///
/// The ghosts follow a hash sample of the keys, as SHARDS [3] samples a reuse-distance
/// histogram: a key is in or out of the sample for good, so a sampled key's evictions and misses
/// are all seen. The sample is 1 key in 2^shift, the shift the largest (up to
/// `max_sample_shift`) that leaves each ghost `min_sampled_ghost` hashes; the votes are scaled
/// back by 2^shift. On a large cache a miss or an eviction then costs a multiply and a compare
/// in 7 cases of 8, and the ghosts hold an eighth of the hashes; a small cache keeps them all.
///
/// [1] N. Megiddo, D. S. Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", FAST 2003.
/// [2] M. Riedmiller, H. Braun, "A Direct Adaptive Method for Faster Backpropagation Learning:
///     The RPROP Algorithm", IEEE ICNN 1993.
/// [3] C. Waldspurger, N. Park, A. Garthwaite, I. Ahmad, "Efficient MRC Construction with
///     SHARDS", FAST 2015.
class GhostClimber {
 public:
  GhostClimber(Weight capacity, const GhostClimberConfig& config) noexcept;

  /// A hit on one of the window's `band()` least recent entries.
  void record_window_hit() noexcept { ++window_hits_; }
  /// A hit on one of probation's `band()` oldest entries (main's least valuable end).
  void record_probation_hit() noexcept { ++probation_hits_; }
  /// Entries each ghost remembers when the cache holds `entries`: the width of the margin on
  /// both sides, so that gains and losses are counted over the same space.
  [[nodiscard]] std::size_t band(std::size_t entries) const noexcept {
    return ghost_capacity(entries);
  }
  /// A key was evicted by the window side (a rejected candidate) or by main (a victim);
  /// `entries` is the number of entries the cache holds.
  void record_eviction(std::uint64_t hash, bool from_window, std::size_t entries) {
    if (sampled(hash)) push_sampled(hash, from_window, entries);
  }
  /// A lookup missed: counts a vote if a ghost remembers the key.
  void record_miss(std::uint64_t hash) noexcept {
    if (sampled(hash)) take_sampled(hash);
  }
  /// Whether the ghosts follow `hash` (1 key in `2^sample_shift()`).
  [[nodiscard]] bool sampled(std::uint64_t hash) const noexcept {
    // Not GhostQueue's multiplier: its table is indexed by the top bits of that product.
    return ((hash * 0xff51afd7ed558ccdULL) >> 32) < sample_threshold_;
  }
  /// log2 of the sampling rate's inverse.
  [[nodiscard]] unsigned sample_shift() const noexcept { return sample_shift_; }

  /// Ends the sample and returns the signed number of weight units the window should grow by.
  [[nodiscard]] std::int64_t adjust(std::size_t window_entries, std::size_t probation_entries,
                                    std::size_t entries) noexcept;

  /// The step the next move scales, as a fraction of the capacity.
  [[nodiscard]] double step() const noexcept { return step_ < 0 ? config_.step : step_; }

  /// Forgets the current sample (the ghosts stay).
  void reset() noexcept { window_hits_ = probation_hits_ = window_votes_ = main_votes_ = 0; }
  void clear();

 private:
  [[nodiscard]] std::size_t ghost_capacity(std::size_t entries) const noexcept;
  void push_sampled(std::uint64_t hash, bool from_window, std::size_t entries);
  void take_sampled(std::uint64_t hash) noexcept;
  void update_sample_shift(std::size_t band) noexcept;
  void adapt_step(double balance) noexcept;

  GhostClimberConfig config_;
  double capacity_;
  GhostQueue window_ghost_, main_ghost_;
  std::uint64_t window_hits_ = 0, probation_hits_ = 0;
  std::uint64_t window_votes_ = 0, main_votes_ = 0;
  unsigned sample_shift_ = 0;
  std::uint64_t sample_threshold_ = std::uint64_t{1} << 32;  // sampled: top 32 bits below this
  double step_ = -1;                                         // < 0: no move yet
  double last_balance_ = 0;  // the previous sample's balance, for its sign
};

}  // namespace stratacache::store
