// Approximate access counts for admission decisions: a 4-bit count-min sketch that ages itself.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/hash.hpp"
#include "common/prefetch_hint.hpp"

namespace stratacache::store {

/// Estimates how often a key hash was seen recently, saturating at 15.
///
/// A count-min sketch [1] of depth four with 4-bit counters, used as TinyLFU's frequency
/// histogram [2]. The counters live in 64-bit words of sixteen counters each; there are as many
/// words as the expected number of entries (rounded up to a power of two), so the width is 16
/// counters per entry. For cache efficiency a hash selects one 64-byte block (eight words) and
/// one counter in each of four word pairs of that block, so an update touches one cache line;
/// the estimate is the minimum of the four counters.
///
/// Aging ("reset" in [2]): after `sample_size()` successful increments (ten per expected entry)
/// every counter is halved, and the increment count is halved too, less the quarter of the odd
/// counters whose remainder was truncated. Old popularity thus fades geometrically, and the
/// O(width) pass is amortised over ten increments per word.
///
/// Both hot paths mix the hash once and read the four counters' positions straight from that
/// mix, inline: they run under the store's lock on every request.
///
/// Invariants: every counter is <= 15; `size_ < sample_size_`.
///
/// [1] G. Cormode, S. Muthukrishnan, "An Improved Data Stream Summary: The Count-Min Sketch
///     and its Applications", J. Algorithms 2005.
/// [2] G. Einziger, R. Friedman, B. Manes, "TinyLFU: A Highly Efficient Cache Admission
///     Policy", ACM ToS 2017.
class FrequencySketch {
 public:
  /// The largest estimate `frequency` returns.
  static constexpr unsigned kMaxCount = 15;

  /// A sketch sized for `expected_entries` keys (at least 8 words are always allocated).
  explicit FrequencySketch(std::uint64_t expected_entries = 0) { resize(expected_entries); }

  /// Grows the sketch to hold `expected_entries` accurately; forgets all counts if it grows.
  void ensure_capacity(std::uint64_t expected_entries);

  /// Estimated recent occurrences of `hash`, in [0, 15].
  [[nodiscard]] unsigned frequency(std::uint64_t hash) const noexcept {
    const std::uint64_t h = mixed(hash);
    const std::uint64_t* block = block_of(h);
    std::uint64_t counters = h >> 32;
    unsigned least = kMaxCount;
    for (unsigned i = 0; i < 4; ++i, counters >>= 8) {
      const std::uint64_t word = block[2 * i + (counters & 1U)];
      least = std::min(least, static_cast<unsigned>((word >> shift_of(counters)) & 15U));
    }
    return least;
  }

  /// Starts loading the block `increment(hash)` and `frequency(hash)` read. Safe without the
  /// lock that guards the sketch.
  [[gnu::always_inline]] void prefetch(std::uint64_t hash) const noexcept {
    hint_.prefetch(static_cast<std::size_t>(mixed(hash)));
  }

  /// Counts one occurrence of `hash`; may trigger an aging pass.
  void increment(std::uint64_t hash) noexcept {
    const std::uint64_t h = mixed(hash);
    std::uint64_t* block = block_of(h);
    const std::uint64_t c = h >> 32;
    // The four counters sit in four different words, so they are independent: add 1 to each
    // that is below 15, without branching. Spelled out rather than looped: GCC keeps the loop
    // and its shifting cursor, which cost as much as the increments themselves.
    const std::uint64_t added = bump(block[0 + (c & 1U)], shift_of(c)) |
                                bump(block[2 + ((c >> 8) & 1U)], shift_of(c >> 8)) |
                                bump(block[4 + ((c >> 16) & 1U)], shift_of(c >> 16)) |
                                bump(block[6 + ((c >> 24) & 1U)], shift_of(c >> 24));
    // Only increments that changed a counter count towards aging, so a saturated hot key cannot
    // age everyone else faster.
    if (added != 0 && ++size_ >= sample_size_) age();
  }
  /// Forgets every count, keeping the size.
  void clear() noexcept;

  /// Number of expected entries the sketch is sized for.
  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }
  /// Increments between two aging passes.
  [[nodiscard]] std::uint64_t sample_size() const noexcept { return sample_size_; }
  /// Increments counted since the last aging pass (adjusted by it).
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

 private:
  static constexpr std::size_t kWordsPerBlock = 8;

  // Callers pass hashes whose high bits may be shared (a shard is chosen by them), so mix again:
  // the low half picks the block, each byte of the high half one counter of one word pair (its
  // low bit the word, its next four bits the counter).
  [[nodiscard]] static std::uint64_t mixed(std::uint64_t hash) noexcept {
    return mix64(hash ^ 0x9e3779b97f4a7c15ULL);
  }
  // Adds 1 to the 4-bit counter at `shift` unless it is 15; returns 1 if it did.
  static std::uint64_t bump(std::uint64_t& word, unsigned shift) noexcept {
    const std::uint64_t below_max = ((~word >> shift) & 15U) != 0 ? 1U : 0U;
    word += below_max << shift;
    return below_max;
  }
  [[nodiscard]] static unsigned shift_of(std::uint64_t counter_byte) noexcept {
    return static_cast<unsigned>(counter_byte << 1) & 60U;  // ((byte >> 1) & 15) * 4
  }
  [[nodiscard]] const std::uint64_t* block_of(std::uint64_t h) const noexcept {
    return table_[static_cast<std::size_t>(h) & block_mask_].words;
  }
  [[nodiscard]] std::uint64_t* block_of(std::uint64_t h) noexcept {
    return table_[static_cast<std::size_t>(h) & block_mask_].words;
  }

  void resize(std::uint64_t expected_entries);
  void age() noexcept;

  // One cache line each: with the vector's default 16-byte alignment a block straddled two
  // lines, and an increment missed 1.65 lines on average instead of one (cachegrind).
  struct alignas(64) Block {
    std::uint64_t words[kWordsPerBlock];
  };
  static_assert(sizeof(Block) == 64);

  std::vector<Block> table_;
  std::uint64_t capacity_ = 0;
  std::uint64_t sample_size_ = 0;
  std::uint64_t size_ = 0;
  std::size_t block_mask_ = 0;
  PrefetchHint<sizeof(Block)> hint_;
};

}  // namespace stratacache::store
