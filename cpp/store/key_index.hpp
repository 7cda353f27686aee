// Open-addressing index from key hash to entry id, for one shard.
//
// Linear probing over 8-byte slots {id, 32-bit tag}. The tag is the hash's low 32 bits, so a
// slot's home is `tag & mask` (tables stay below 2^32 slots): moving and regrowing never read
// the entries, and the tag bits above the home rejects almost every non-matching slot before
// the key bytes are compared. Deletion shifts later slots back (no tombstones), so probe
// sequences stay short under churn. Load factor <= 3/4.
#pragma once

#include <cstdint>
#include <vector>

#include "store/intrusive_list.hpp"

namespace stratacache::store {

class KeyIndex {
 public:
  KeyIndex() { slots_.resize(kMinSlots); }

  /// Id whose key satisfies `matches(id)` among entries with this hash, or kNoEntry.
  // always_inline: every get and set probes, and GCC kept it out of line in some stores.
  template <class Matches>
  [[nodiscard, gnu::always_inline]] EntryId find(std::uint64_t hash,
                                                 Matches&& matches) const noexcept {
    const std::uint32_t tag = tag_of(hash);
    for (std::size_t i = home(tag);; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.id == kNoEntry) return kNoEntry;
      if (s.tag == tag && matches(s.id)) return s.id;
    }
  }

  /// Adds `id` (not present yet).
  void insert(std::uint64_t hash, EntryId id) {
    if ((count_ + 1) * 4 > slots_.size() * 3) grow();
    place(tag_of(hash), id);
    ++count_;
  }

  /// Removes `id`, stored under `hash`.
  void erase(std::uint64_t hash, EntryId id) noexcept {
    std::size_t i = home(tag_of(hash));
    while (slots_[i].id != id) i = (i + 1) & mask();
    // Backward-shift: move later members of the cluster into the hole when their home allows.
    for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      if (slots_[j].id == kNoEntry) break;
      const std::size_t h = home(slots_[j].tag);
      // Can slot j's entry move to hole i? Only if i lies cyclically within [h, j).
      if (((j - h) & mask()) >= ((j - i) & mask())) {
        slots_[i] = slots_[j];
        i = j;
      }
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
  [[nodiscard]] std::size_t home(std::uint32_t tag) const noexcept { return tag & mask(); }
  void place(std::uint32_t tag, EntryId id) noexcept {
    std::size_t i = home(tag);
    while (slots_[i].id != kNoEntry) i = (i + 1) & mask();
    slots_[i] = Slot{id, tag};
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.id != kNoEntry) place(s.tag, s.id);
    }
  }

  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

}  // namespace stratacache::store
