// An open-addressing map from int64 trace keys to 32-bit values, for the replay loops: no
// allocation per key and one cache line per lookup, where std::unordered_map costs several.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/hash.hpp"

namespace stratacache::predict {

/// Linear probing with backward-shift deletion; load factor <= 1/2. Callers pass the key's
/// `mix64` hash along with the key, since the replay loop needs it anyway.
class KeyMap {
 public:
  static constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();

  /// A map that holds `expected` keys without growing.
  explicit KeyMap(std::size_t expected = 8) {
    rehash(std::bit_ceil(std::max<std::size_t>(2 * expected + 2, 16)));
  }

  [[nodiscard]] static std::uint64_t hash_of(std::int64_t key) noexcept {
    return mix64(static_cast<std::uint64_t>(key));
  }

  /// The value stored for `key`, or kAbsent.
  [[nodiscard]] std::uint32_t find(std::int64_t key, std::uint64_t hash) const noexcept {
    for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kAbsent) return kAbsent;
      if (s.key == key) return s.value;
    }
  }

  /// Stores `value` (not kAbsent) for `key`, which must not be present.
  void insert(std::int64_t key, std::uint64_t hash, std::uint32_t value) {
    if (2 * (size_ + 1) > slots_.size()) rehash(2 * slots_.size());
    place(key, hash, value);
    ++size_;
  }

  /// Removes `key` if present.
  void erase(std::int64_t key, std::uint64_t hash) noexcept {
    std::size_t i = home(hash);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].value == kAbsent) return;
      if (slots_[i].key == key) break;
    }
    for (std::size_t j = (i + 1) & mask_; slots_[j].value != kAbsent; j = (j + 1) & mask_) {
      const std::size_t h = home(hash_of(slots_[j].key));
      // Slot j's entry may fill hole i only if i lies cyclically within [h, j).
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    --size_;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    std::int64_t key = 0;
    std::uint32_t value = kAbsent;
  };

  [[nodiscard]] std::size_t home(std::uint64_t hash) const noexcept {
    return static_cast<std::size_t>(hash) & mask_;
  }
  void place(std::int64_t key, std::uint64_t hash, std::uint32_t value) noexcept {
    std::size_t i = home(hash);
    while (slots_[i].value != kAbsent) i = (i + 1) & mask_;
    slots_[i] = Slot{key, value};
  }
  void rehash(std::size_t slots) {
    std::vector<Slot> old(slots, Slot{});
    old.swap(slots_);
    mask_ = slots - 1;
    for (const Slot& s : old) {
      if (s.value != kAbsent) place(s.key, hash_of(s.key), s.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace stratacache::predict
