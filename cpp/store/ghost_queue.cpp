#include "store/ghost_queue.hpp"

#include <bit>

namespace stratacache::store {

std::size_t GhostQueue::find(std::uint64_t h) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home(h);; i = (i + 1) & mask) {
    if (slots_[i].hash == h) return i;
    if (slots_[i].hash == 0) return slots_.size();
  }
}

bool GhostQueue::contains(std::uint64_t hash) const noexcept {
  return find(stored(hash)) != slots_.size();
}

void GhostQueue::erase_at(std::size_t i) noexcept {
  const std::size_t mask = slots_.size() - 1;
  // Backward-shift deletion keeps probe sequences unbroken without tombstones.
  for (std::size_t j = (i + 1) & mask; slots_[j].hash != 0; j = (j + 1) & mask) {
    const std::size_t h = home(slots_[j].hash);
    if (((j - h) & mask) >= ((j - i) & mask)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  --live_;
}

bool GhostQueue::take(std::uint64_t hash) noexcept {
  const std::size_t i = find(stored(hash));
  if (i == slots_.size()) return false;
  erase_at(i);
  return true;
}

void GhostQueue::pop_oldest() noexcept {
  const std::uint64_t seq = head_seq_++;
  const std::uint64_t h = ring_[seq & (ring_.size() - 1)];
  const std::size_t i = find(h);
  if (i != slots_.size() && slots_[i].seq == seq) erase_at(i);
}

void GhostQueue::push(std::uint64_t hash, std::size_t capacity) {
  if (capacity == 0) {
    clear();
    return;
  }
  const std::uint64_t h = stored(hash);
  const std::size_t existing = find(h);
  if (existing != slots_.size()) erase_at(existing);  // re-pushed: only the newest copy counts
  if (tail_seq_ - head_seq_ == ring_.size()) {
    // Full ring: drop the oldest entry if the ring is already twice the capacity, else grow.
    if (ring_.size() >= 2 * capacity) {
      pop_oldest();
    } else {
      std::vector<std::uint64_t> bigger(std::max<std::size_t>(kMinSlots, 2 * ring_.size()));
      for (std::uint64_t s = head_seq_; s != tail_seq_; ++s) {
        bigger[s & (bigger.size() - 1)] = ring_[s & (ring_.size() - 1)];
      }
      ring_.swap(bigger);
    }
  }
  ring_[tail_seq_ & (ring_.size() - 1)] = h;
  if ((live_ + 1) * 2 > slots_.size()) rehash(2 * slots_.size());
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = home(h);
  while (slots_[i].hash != 0) i = (i + 1) & mask;
  slots_[i] = Slot{h, tail_seq_++};
  ++live_;
  while (live_ > capacity) pop_oldest();
}

void GhostQueue::rehash(std::size_t slots) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(slots, Slot{});
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(slots));
  const std::size_t mask = slots - 1;
  for (const Slot& s : old) {
    if (s.hash == 0) continue;
    std::size_t i = home(s.hash);
    while (slots_[i].hash != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void GhostQueue::clear() {
  slots_.clear();  // nothing to carry over into the fresh table
  rehash(kMinSlots);
  live_ = 0;
  head_seq_ = tail_seq_ = 0;
  ring_.clear();
}

}  // namespace stratacache::store
