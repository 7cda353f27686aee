// Open-addressing index from key hash to entry id, for one shard.
//
// Robin Hood linear probing over 8-byte slots {id, 32-bit tag}. The tag is the hash's low 32
// bits, so a slot's home is `tag & mask` (tables stay below 2^32 slots): moving and regrowing
// never read the entries, and the tag bits above the home reject almost every non-matching slot
// before the key bytes are compared. Robin Hood order (along a cluster, slots sit in order of
// their home) lets a lookup stop at the first slot closer to its home than the probe is to the
// key's, so misses stay short at load factors linear probing cannot afford: the table grows at
// 7/8, where plain linear probing grows at 3/4 (a slot costs 8 bytes; at 3/4, 200k entries took
// 4 MiB, at 7/8 they take 2 MiB). Deletion shifts later slots back (no tombstones).
#pragma once

#include <cstdint>
#include <vector>

#include "store/intrusive_list.hpp"

namespace stratacache::store {

class KeyIndex {
 public:
  KeyIndex() { slots_.resize(kMinSlots); }

  /// Id whose key satisfies `matches(id)` among entries with this hash, or kNoEntry.
  template <class Matches>
  [[nodiscard]] EntryId find(std::uint64_t hash, Matches&& matches) const noexcept {
    const std::uint32_t tag = tag_of(hash);
    const std::size_t m = mask();
    const Slot* slots = slots_.data();
    std::size_t i = tag & m;
    for (std::size_t dist = 0;; ++dist, i = (i + 1) & m) {
      const Slot& s = slots[i];
      if (s.id == kNoEntry) return kNoEntry;
      if (s.tag == tag) {
        if (matches(s.id)) return s.id;
      } else if (((i - s.tag) & m) < dist) {
        return kNoEntry;  // this slot is closer to its home than the key would be to its own
      }
    }
  }

  /// Where a lookup of `hash` starts, for a prefetch before the shard's lock is taken.
  [[nodiscard]] const void* home_address(std::uint64_t hash) const noexcept {
    return slots_.data() + (tag_of(hash) & mask());
  }

  /// Adds `id` (not present yet).
  void insert(std::uint64_t hash, EntryId id) {
    if ((count_ + 1) * 8 > slots_.size() * 7) grow();
    place(Slot{id, tag_of(hash)});
    ++count_;
  }

  /// Removes `id`, stored under `hash`.
  void erase(std::uint64_t hash, EntryId id) noexcept {
    const std::size_t m = mask();
    std::size_t i = tag_of(hash) & m;
    while (slots_[i].id != id) i = (i + 1) & m;
    // Backward shift: every later member of the cluster not at its home moves back one slot.
    for (std::size_t j = (i + 1) & m;; i = j, j = (j + 1) & m) {
      const Slot& next = slots_[j];
      if (next.id == kNoEntry || (next.tag & m) == j) break;
      slots_[i] = next;
    }
    slots_[i] = Slot{};
    --count_;
  }

  void clear() {
    slots_.assign(kMinSlots, Slot{});
    count_ = 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] std::size_t capacity_bytes() const noexcept { return slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    EntryId id = kNoEntry;
    std::uint32_t tag = 0;
  };
  static constexpr std::size_t kMinSlots = 16;

  static std::uint32_t tag_of(std::uint64_t hash) noexcept {
    return static_cast<std::uint32_t>(hash);
  }
  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }
  // Robin Hood insertion: walk from the home, and whenever the slot's occupant is closer to its
  // own home than `s` is, take its place and carry it on.
  void place(Slot s) noexcept {
    const std::size_t m = mask();
    std::size_t i = s.tag & m;
    for (std::size_t dist = 0;; ++dist, i = (i + 1) & m) {
      Slot& here = slots_[i];
      if (here.id == kNoEntry) {
        here = s;
        return;
      }
      const std::size_t here_dist = (i - here.tag) & m;
      if (here_dist < dist) {
        std::swap(here, s);
        dist = here_dist;
      }
    }
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.id != kNoEntry) place(s);
    }
    // `old` (half the size) is freed here.
  }

  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

}  // namespace stratacache::store
