// A bounded FIFO of key hashes with O(1) membership: the memory of recently evicted keys that
// S3-FIFO consults to admit returning keys straight into its main queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stratacache::store {

/// Remembers the most recent `capacity` hashes pushed; a hash leaves when it is taken back or
/// when newer hashes push it out. Stores only hashes (no keys, no values).
class GhostQueue {
 public:
  GhostQueue() { rehash(kMinSlots); }

  /// Remembers `hash`, then forgets the oldest hashes beyond `capacity`.
  void push(std::uint64_t hash, std::size_t capacity);
  /// True if `hash` was remembered; forgets it.
  bool take(std::uint64_t hash) noexcept;
  /// True if `hash` is remembered.
  [[nodiscard]] bool contains(std::uint64_t hash) const noexcept;
  /// Number of hashes remembered.
  [[nodiscard]] std::size_t size() const noexcept { return live_; }
  void clear();

 private:
  static constexpr std::size_t kMinSlots = 16;
  struct Slot {
    std::uint64_t hash = 0;  // 0: empty (hash 0 is stored as 1)
    std::uint64_t seq = 0;   // position of this hash in the FIFO
  };

  [[nodiscard]] static std::uint64_t stored(std::uint64_t hash) noexcept {
    return hash == 0 ? 1 : hash;
  }
  [[nodiscard]] std::size_t home(std::uint64_t h) const noexcept {
    return static_cast<std::size_t>((h * 0x9e3779b97f4a7c15ULL) >> shift_);
  }
  [[nodiscard]] std::size_t find(std::uint64_t h) const noexcept;
  void erase_at(std::size_t i) noexcept;
  void pop_oldest() noexcept;
  void rehash(std::size_t slots);

  std::vector<Slot> slots_;
  unsigned shift_ = 64;
  std::size_t live_ = 0;
  // The FIFO: a ring of hashes with sequence numbers [head_seq_, tail_seq_). Hashes taken back
  // stay in the ring until they reach its head; a ring entry is live iff the table maps its
  // hash to its sequence number.
  std::vector<std::uint64_t> ring_;
  std::uint64_t head_seq_ = 0;
  std::uint64_t tail_seq_ = 0;
};

}  // namespace stratacache::store
