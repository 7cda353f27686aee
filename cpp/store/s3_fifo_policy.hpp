// S3-FIFO eviction: a small probationary FIFO, a main FIFO with reinsertion, and a ghost FIFO
// of evicted hashes (kept as fingerprints with insertion numbers in one cache line per key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "store/eviction_policy.hpp"
#include "store/intrusive_list.hpp"
#include "store/unit_weights.hpp"

namespace stratacache::store {

/// Tuning of `S3FifoPolicy`.
struct S3FifoConfig {
  double small_share = 0.10;        ///< small queue's share of the capacity
  double ghost_factor = 1.0;        ///< ghost entries remembered, per entry in the main queue
  std::uint8_t move_threshold = 2;  ///< hits in the small queue that earn a place in main
};

/// The ghost queue of `S3FifoPolicy`: remembers about the `capacity` most recently pushed
/// hashes, as the paper's implementation does [1, section 4.3]: no FIFO of its own, but a table
/// of buckets, one cache line each, holding the last 7 {32-bit fingerprint, 32-bit insertion
/// number} pairs pushed into it (a ring per bucket). A hash is remembered while fewer than
/// `capacity` pushes came after it, so old entries expire without being visited. The table keeps
/// capacity <= 2 * buckets, so a bucket receives 1-2 of the last `capacity` pushes on average
/// and rarely more than 7 (the excess is forgotten early).
/// A push and a take each touch one line and compare 8 fingerprints at once.
class S3Ghost {
 public:
  /// Remembers `hash`, forgetting the oldest hashes beyond `capacity` (>= 1).
  void push(std::uint64_t hash, std::size_t capacity);
  /// True if `hash` is among the `capacity` most recent pushes; forgets it.
  bool take(std::uint64_t hash, std::size_t capacity) noexcept;
  /// True if `hash` is among the `capacity` most recent pushes.
  [[nodiscard]] bool contains(std::uint64_t hash, std::size_t capacity) const noexcept;
  void clear() noexcept;

 private:
  static constexpr std::uint32_t kWays = 7;
  static constexpr std::size_t kMinBuckets = 2;
  struct alignas(64) Bucket {
    std::uint32_t fp[8] = {};  // 0: empty; fp[7] stays 0, so an 8-wide compare never matches it
    std::uint32_t seq[kWays] = {};
    std::uint32_t next = 0;  // the ring's oldest slot, overwritten by the next push
  };

  [[nodiscard]] static std::uint32_t fingerprint(std::uint64_t hash) noexcept {
    // The low half: the store's shard index takes the high bits, constant within a policy.
    const auto fp = static_cast<std::uint32_t>(hash);
    return fp != 0 ? fp : 1;
  }
  [[nodiscard]] std::size_t bucket_of(std::uint32_t fp) const noexcept {
    return static_cast<std::size_t>((fp * 0x9e3779b1U) >> shift_);
  }
  // Pushes after the slot's own (0 for the newest); wraps after 2^32 pushes.
  [[nodiscard]] std::uint32_t age(std::uint32_t seq) const noexcept { return pushes_ - seq; }
  void place(std::uint32_t fp, std::uint32_t seq) noexcept;
  void grow(std::size_t capacity);

  std::vector<Bucket> buckets_;
  unsigned shift_ = 32;
  std::uint32_t pushes_ = 0;
};

/// S3-FIFO [1], weighted.
///
/// New keys enter the small FIFO (10% of the capacity). Its oldest entry leaves when the small
/// queue must give up space: if it was hit while there (`move_threshold` times, 2 as in the
/// authors' libCacheSim) it moves to the main FIFO, otherwise it is evicted and its hash is
/// remembered in the ghost FIFO. Most keys
/// are one-hit wonders, and they leave after a short stay without disturbing main. A key found
/// in the ghost is inserted straight into main. Main is a FIFO with a 2-bit frequency per entry
/// (CLOCK with a counter): its oldest entry is evicted if its counter is 0, else reinserted at
/// the tail with the counter decremented. Hits only bump a counter, never move entries.
///
/// Contract with the store: `victim()` chooses (moving entries between queues as it scans); the
/// store removes the chosen entry and calls `on_remove` before asking again. An entry heavier
/// than the whole capacity is chosen first.
///
/// [1] J. Yang, Y. Zhang, Z. Qiu, Y. Yue, K. V. Rashmi, "FIFO queues are all you need for cache
///     eviction", SOSP 2023.
class S3FifoPolicy {
 public:
  static constexpr std::string_view kName = "s3fifo";

  /// Where an entry lives.
  enum class Queue : std::uint8_t { kNone, kSmall, kMain };

  explicit S3FifoPolicy(Weight capacity) : S3FifoPolicy(capacity, S3FifoConfig{}) {}
  S3FifoPolicy(Weight capacity, const S3FifoConfig& config);

  /// Room for `n` ids without reallocating (a store that knows its bound).
  void reserve(std::size_t n);
  void on_insert(EntryId id, std::uint64_t hash, Weight w);
  void on_access(EntryId id, std::uint64_t /*hash*/) noexcept {
    Node& n = nodes_[id];
    if (n.freq < kMaxFreq) ++n.freq;
  }
  void on_miss(std::uint64_t /*hash*/) noexcept {}
  void on_expect(std::uint64_t /*hash*/) noexcept {}
  void on_update(EntryId id, std::uint64_t hash, Weight w);
  void on_remove(EntryId id);
  [[nodiscard]] std::optional<EntryId> victim();
  void clear();
  [[nodiscard]] Weight weight() const noexcept { return small_weight_ + main_weight_; }

  /// Queue of a tracked entry (kNone for an id the policy does not hold).
  [[nodiscard]] Queue queue_of(EntryId id) const noexcept {
    return id < nodes_.size() ? nodes_[id].queue : Queue::kNone;
  }
  /// True if `hash` is remembered by the ghost queue.
  [[nodiscard]] bool in_ghost(std::uint64_t hash) const noexcept {
    return ghost_.contains(hash, ghost_capacity());
  }

 private:
  static constexpr std::uint8_t kMaxFreq = 3;

  // Per id, in three arrays: the queue and counter every hit reads (2 bytes), the hash only
  // an eviction to the ghost reads, and the weights (none while all are 1). One 24-byte node
  // held the three before.
  struct Node {
    Queue queue = Queue::kNone;
    std::uint8_t freq = 0;
  };

  // Inline in the .cpp (every caller is there): each insert and eviction links and unlinks, and
  // GCC had left both out of line.
  [[gnu::always_inline]] inline void push(EntryId id, Queue q) noexcept;
  [[gnu::always_inline]] inline void unlink(EntryId id) noexcept;
  EntryId decide();
  EntryId evict_from_main() noexcept;
  // Hashes the ghost remembers: `ghost_factor` per entry in main, at least 1. In 16.16 fixed
  // point: the double arithmetic was two 64-bit conversions on every insert and eviction.
  [[nodiscard]] std::size_t ghost_capacity() const noexcept {
    const std::size_t cap = (main_.size() * ghost_scale_) >> 16;
    return cap != 0 ? cap : 1;
  }

  S3FifoConfig config_;
  std::size_t ghost_scale_;  // ghost_factor * 2^16
  Weight capacity_;
  Weight small_max_;
  Links links_;
  std::vector<Node> nodes_;
  std::vector<std::uint64_t> hashes_;
  UnitWeights<> weights_;
  IdList small_, main_;
  Weight small_weight_ = 0, main_weight_ = 0;
  S3Ghost ghost_;
  bool evicted_ = false;          // no eviction yet: the cache is still filling
  EntryId oversized_ = kNoEntry;  // last inserted entry if heavier than the capacity
  EntryId decided_ = kNoEntry;    // chosen by victim(), not yet removed
  bool decided_to_ghost_ = false;
};

static_assert(EvictionPolicy<S3FifoPolicy>);

}  // namespace stratacache::store
