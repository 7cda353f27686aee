// Open-addressing index from key hash to entry id, for one shard.
//
// Linear probing over 8-byte slots {id, 32-bit tag}, with a control byte per slot beside them
// (as in SwissTable [1]): 0 for an empty slot, else 0x80 | seven bits of the tag. A lookup
// scans the control bytes of its probe run sixteen at a time and reads a slot only where its
// control byte matches, so a miss usually touches one line of an array an eighth the size of
// the slots (L2-resident where the slots are not) and no slot at all. The tag is the hash's low
// 32 bits, so a slot's home is `tag & mask` (tables stay below 2^32 slots): moving and regrowing
// never read the entries, and the tag rejects almost every slot the control byte let through
// before the key bytes are compared. Deletion shifts later slots back (no tombstones), so probe
// runs stay short under churn. Load factor <= 3/4.
//
// [1] M. Kulukundis, "Designing a Fast, Efficient, Cache-friendly Hash Table, Step by Step",
//     CppCon 2017 (Abseil's flat_hash_map).
#pragma once

#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/prefetch_hint.hpp"
#include "store/intrusive_list.hpp"

namespace stratacache::store {

class KeyIndex {
 public:
  KeyIndex() { (void)reset(kMinSlots); }

  /// Id whose key satisfies `matches(id)` among entries with this hash, or kNoEntry.
  // always_inline: every get and set probes, and GCC kept it out of line in some stores.
  template <class Matches>
  [[nodiscard, gnu::always_inline]] EntryId find(std::uint64_t hash,
                                                 Matches&& matches) const noexcept {
    const std::uint32_t tag = tag_of(hash);
    const std::uint8_t want = control_of(tag);
    for (std::size_t i = home(tag);; i = (i + kGroup) & mask()) {
      const std::uint32_t empty = match_group(i, kEmpty);
      // Only the slots before the run's first empty one belong to it.
      std::uint32_t candidates = match_group(i, want) & (empty == 0 ? ~0U : (empty & -empty) - 1);
      for (; candidates != 0; candidates &= candidates - 1) {
        const Slot& s = slots_[(i + static_cast<unsigned>(__builtin_ctz(candidates))) & mask()];
        if (s.tag == tag && matches(s.id)) return s.id;
      }
      if (empty != 0) return kNoEntry;
    }
  }

  /// Starts loading the first lines `find(hash)` reads. Safe without the shard's lock.
  [[gnu::always_inline]] void prefetch(std::uint64_t hash) const noexcept {
    control_hint_.prefetch(tag_of(hash));
    slot_hint_.prefetch(tag_of(hash));
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
    // Backward-shift: move later members of the run into the hole when their home allows.
    for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      if (slots_[j].id == kNoEntry) break;
      const std::size_t h = home(slots_[j].tag);
      // Can slot j's entry move to hole i? Only if i lies cyclically within [h, j).
      if (((j - h) & mask()) >= ((j - i) & mask())) {
        put(i, slots_[j]);
        i = j;
      }
    }
    put(i, Slot{});
    --count_;
  }

  void clear() {
    (void)reset(kMinSlots);
    count_ = 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] std::size_t capacity_bytes() const noexcept {
    return slots_.size() * sizeof(Slot) + control_.size();
  }

 private:
  struct Slot {
    EntryId id = kNoEntry;
    std::uint32_t tag = 0;
  };
  static constexpr std::size_t kGroup = 16;  // control bytes compared at once
  static constexpr std::size_t kMinSlots = kGroup;
  static constexpr std::uint8_t kEmpty = 0;

  static std::uint32_t tag_of(std::uint64_t hash) noexcept {
    return static_cast<std::uint32_t>(hash);
  }
  // The tag's top seven bits: independent of the home below 2^25 slots a shard.
  static std::uint8_t control_of(std::uint32_t tag) noexcept {
    return static_cast<std::uint8_t>(0x80U | (tag >> 25));
  }
  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }
  [[nodiscard]] std::size_t home(std::uint32_t tag) const noexcept { return tag & mask(); }

  // Bit k set where the control byte of slot i + k (cyclically) is `byte`. The control array
  // repeats its first kGroup bytes past its end, so a group never wraps.
  [[nodiscard, gnu::always_inline]] std::uint32_t match_group(std::size_t i,
                                                              std::uint8_t byte) const noexcept {
    const std::uint8_t* group = control_.data() + i;
#if defined(__SSE2__)
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(group));
    return static_cast<std::uint32_t>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(static_cast<char>(byte)))));
#else
    std::uint32_t bits = 0;
    for (std::size_t k = 0; k < kGroup; ++k) bits |= std::uint32_t{group[k] == byte} << k;
    return bits;
#endif
  }
  // Writes slot i and its control byte (and the byte's copy past the end).
  void put(std::size_t i, const Slot& s) noexcept {
    slots_[i] = s;
    const std::uint8_t c = s.id == kNoEntry ? kEmpty : control_of(s.tag);
    control_[i] = c;
    if (i < kGroup) control_[slots_.size() + i] = c;
  }
  void place(std::uint32_t tag, EntryId id) noexcept {
    std::size_t i = home(tag);
    while (slots_[i].id != kNoEntry) i = (i + 1) & mask();
    put(i, Slot{id, tag});
  }
  // Both arrays are allocated before either is replaced: a bad_alloc leaves the index as it was.
  // Returns the slots replaced.
  std::vector<Slot> reset(std::size_t slots) {
    std::vector<Slot> fresh(slots);
    std::vector<std::uint8_t> control(slots + kGroup, kEmpty);
    control_.swap(control);
    slots_.swap(fresh);
    control_hint_.publish(control_.data(), mask());
    slot_hint_.publish(slots_.data(), mask());
    return fresh;
  }
  void grow() {
    for (const Slot& s : reset(slots_.size() * 2)) {
      if (s.id != kNoEntry) place(s.tag, s.id);
    }
  }

  std::vector<Slot> slots_;
  std::vector<std::uint8_t> control_;  // slots_.size() + kGroup bytes
  PrefetchHint<1> control_hint_;
  PrefetchHint<sizeof(Slot)> slot_hint_;
  std::size_t count_ = 0;
};

}  // namespace stratacache::store
