// Approximate access counts for admission decisions: a 4-bit count-min sketch that ages itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

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
  [[nodiscard]] unsigned frequency(std::uint64_t hash) const noexcept;

  /// Counts one occurrence of `hash`; may trigger an aging pass.
  void increment(std::uint64_t hash) noexcept;

  /// Forgets every count, keeping the size.
  void clear() noexcept;

  /// Number of expected entries the sketch is sized for.
  [[nodiscard]] std::uint64_t capacity() const noexcept { return capacity_; }
  /// Increments between two aging passes.
  [[nodiscard]] std::uint64_t sample_size() const noexcept { return sample_size_; }
  /// Increments counted since the last aging pass (adjusted by it).
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

 private:
  struct Slots {
    std::size_t word[4];
    unsigned shift[4];
  };

  void resize(std::uint64_t expected_entries);
  [[nodiscard]] Slots slots_of(std::uint64_t hash) const noexcept;
  void age() noexcept;

  std::vector<std::uint64_t> table_;
  std::uint64_t capacity_ = 0;
  std::uint64_t sample_size_ = 0;
  std::uint64_t size_ = 0;
  std::size_t block_mask_ = 0;
};

}  // namespace stratacache::store
