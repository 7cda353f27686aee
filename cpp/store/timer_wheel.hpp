// Hierarchical timer wheel for per-entry expiry in O(1) per schedule, cancel and expiration.
//
// Idea (Varghese & Lauck, "Hashed and hierarchical timing wheels", SOSP 1987; the layout follows
// Caffeine's TimerWheel): level i has 64 buckets, each spanning 2^kShift[i] ns. An entry goes to
// the lowest level whose 64 buckets cover its delay; the bucket index is its deadline's tick at
// that level. `advance(now)` visits only the buckets whose ticks have fully passed, expires their
// due entries and moves the others down a level. Entries past the top level's reach wait in an
// overflow list that is revisited when the top level turns.
// Invariant: an entry is in exactly one bucket (or overflow) iff it has a deadline.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "common/clock.hpp"
#include "store/intrusive_list.hpp"

namespace stratacache::store {

/// Expiry index of one shard. Not thread-safe: the shard lock guards it.
class TimerWheel {
 public:
  static constexpr int kLevels = 4;
  static constexpr int kBuckets = 64;
  // ~1.07 s, ~1.1 min, ~1.2 h, ~3.3 days per bucket.
  static constexpr std::array<int, kLevels> kShift = {30, 36, 42, 48};

  explicit TimerWheel(Nanos now = 0) : time_(now) {}

  /// Files `id` under `deadline`; it must not be scheduled already.
  void schedule(EntryId id, Nanos deadline) {
    links_.ensure(id);
    if (id >= deadlines_.size()) {
      deadlines_.resize(links_.nodes.size(), 0);
      slot_of_.resize(links_.nodes.size(), 0);
    }
    deadlines_[id] = deadline;
    place(id);
  }

  /// Removes `id` if scheduled.
  void cancel(EntryId id) noexcept {
    if (id >= deadlines_.size() || deadlines_[id] == 0) return;
    list_at(slot_of_[id]).unlink(links_, id);
    deadlines_[id] = 0;
    --size_;
  }

  /// Moves time to `now`, calling `expire(id)` for every entry whose deadline is <= now.
  /// The callback must not touch the wheel; the entry is already unlinked.
  template <class F>
  void advance(Nanos now, F&& expire) {
    if (now <= time_) return;
    const Nanos prev = time_;
    time_ = now;
    for (int level = 0; level < kLevels; ++level) {
      const std::int64_t prev_tick = prev >> kShift[level];
      const std::int64_t cur_tick = now >> kShift[level];
      if (cur_tick == prev_tick) break;
      const std::int64_t n = std::min<std::int64_t>(cur_tick - prev_tick, kBuckets);
      for (std::int64_t t = prev_tick; t < prev_tick + n; ++t) {
        drain(buckets_[level][static_cast<std::size_t>(t & (kBuckets - 1))], expire);
      }
      if (level == kLevels - 1) drain(overflow_, expire);
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] Nanos deadline(EntryId id) const noexcept {
    return id < deadlines_.size() ? deadlines_[id] : 0;
  }

  void clear() noexcept {
    for (auto& level : buckets_) {
      for (auto& b : level) b.reset();
    }
    overflow_.reset();
    std::fill(deadlines_.begin(), deadlines_.end(), 0);
    size_ = 0;
  }

 private:
  // The bucket is detached before its entries are visited: a re-placed entry may land in the
  // same bucket (one lap later) and must not be visited twice.
  template <class F>
  void drain(IdList& bucket, F& expire) {
    EntryId id = bucket.head();
    size_ -= bucket.size();
    bucket.reset();
    while (id != kNoEntry) {
      const EntryId next = links_.nodes[id].next;
      links_.nodes[id] = {};
      if (deadlines_[id] <= time_) {
        deadlines_[id] = 0;
        expire(id);
      } else {
        place(id);
      }
      id = next;
    }
  }

  void place(EntryId id) noexcept {
    const std::uint16_t slot = slot_for(deadlines_[id]);
    slot_of_[id] = slot;
    list_at(slot).push_back(links_, id);
    ++size_;
  }

  // Slot = level * kBuckets + bucket, or kOverflowSlot.
  [[nodiscard]] std::uint16_t slot_for(Nanos deadline) const noexcept {
    const Nanos delay = deadline - time_;
    for (int level = 0; level < kLevels; ++level) {
      if (delay < (Nanos{kBuckets} << kShift[level])) {
        return static_cast<std::uint16_t>(level * kBuckets +
                                          ((deadline >> kShift[level]) & (kBuckets - 1)));
      }
    }
    return kOverflowSlot;
  }

  IdList& list_at(std::uint16_t slot) noexcept {
    if (slot == kOverflowSlot) return overflow_;
    return buckets_[slot / kBuckets][slot % kBuckets];
  }

  static constexpr std::uint16_t kOverflowSlot = kLevels * kBuckets;

  Nanos time_;
  Links links_;
  std::vector<Nanos> deadlines_;
  std::vector<std::uint16_t> slot_of_;
  std::array<std::array<IdList, kBuckets>, kLevels> buckets_{};
  IdList overflow_;
  std::size_t size_ = 0;
};

}  // namespace stratacache::store
