// SlotIndex: an open-addressing index from a key's 64-bit hash to its slot in its owner's
// array, in 8 bytes an entry: the owner's slot holds the key, so the index keeps no copy of it.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace stratacache::predict {

/// Linear probing with backward-shift deletion, load factor at most 13/16. An entry is the
/// hash's top 32 bits (its tag) and a slot number. The home of an entry is its tag's top bits,
/// so growing and deleting need no hash from the owner; a tag match is confirmed by the
/// owner's `same(slot)`, which is called for nothing else (a false tag match among n keys is
/// a 2^-32 event per probe, and costs one look at the slot).
class SlotIndex {
 public:
  static constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();

  /// An index that holds `expected` slots without growing.
  explicit SlotIndex(std::size_t expected = 8) { rehash(slots_for(expected)); }

  /// The slot whose key has this hash and satisfies `same(slot)`, or kAbsent.
  template <class Same>
  [[nodiscard]] std::uint32_t find(std::uint64_t hash, Same&& same) const {
    const std::uint32_t tag = tag_of(hash);
    for (std::size_t i = home(tag);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.slot == kAbsent) return kAbsent;
      if (e.tag == tag && same(e.slot)) return e.slot;
    }
  }

  /// Indexes `slot` (not kAbsent) under `hash`; the key must not be indexed yet.
  void insert(std::uint64_t hash, std::uint32_t slot) {
    if (16 * (size_ + 1) > 13 * entries_.size()) rehash(2 * entries_.size());
    place({tag_of(hash), slot});
    ++size_;
  }

  /// Removes the entry of `slot`, indexed under `hash`, if present.
  void erase(std::uint64_t hash, std::uint32_t slot) noexcept {
    std::size_t i = home(tag_of(hash));
    for (;; i = (i + 1) & mask_) {
      if (entries_[i].slot == kAbsent) return;
      if (entries_[i].slot == slot) break;
    }
    for (std::size_t j = (i + 1) & mask_; entries_[j].slot != kAbsent; j = (j + 1) & mask_) {
      const std::size_t h = home(entries_[j].tag);
      // Entry j may fill hole i only if i lies cyclically within [h, j).
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        entries_[i] = entries_[j];
        i = j;
      }
    }
    entries_[i] = Entry{};
    --size_;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Bytes held by the entry array (its capacity).
  [[nodiscard]] std::size_t bytes() const noexcept { return entries_.capacity() * sizeof(Entry); }

 private:
  struct Entry {
    std::uint32_t tag = 0;
    std::uint32_t slot = kAbsent;
  };

  static std::size_t slots_for(std::size_t n) noexcept {
    return std::bit_ceil(std::max<std::size_t>(16 * n / 13 + 1, 16));
  }
  static std::uint32_t tag_of(std::uint64_t hash) noexcept {
    return static_cast<std::uint32_t>(hash >> 32);
  }
  [[nodiscard]] std::size_t home(std::uint32_t tag) const noexcept {
    return shift_ >= 32 ? 0 : static_cast<std::size_t>(tag >> shift_);
  }
  void place(Entry e) noexcept {
    std::size_t i = home(e.tag);
    while (entries_[i].slot != kAbsent) i = (i + 1) & mask_;
    entries_[i] = e;
  }
  void rehash(std::size_t slots) {
    std::vector<Entry> old(slots, Entry{});
    old.swap(entries_);
    mask_ = slots - 1;
    shift_ = 32 - static_cast<unsigned>(std::countr_zero(slots));
    for (const Entry& e : old) {
      if (e.slot != kAbsent) place(e);
    }
  }

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  unsigned shift_ = 32;  ///< home = tag >> shift_: the tag's top log2(slots) bits
  std::size_t size_ = 0;
};

}  // namespace stratacache::predict
