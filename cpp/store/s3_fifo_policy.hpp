// S3-FIFO eviction: a small probationary FIFO, a main FIFO with reinsertion, and a ghost FIFO
// of evicted hashes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "store/eviction_policy.hpp"
#include "store/ghost_queue.hpp"
#include "store/intrusive_list.hpp"
#include "store/unit_weights.hpp"

namespace stratacache::store {

/// Tuning of `S3FifoPolicy`.
struct S3FifoConfig {
  double small_share = 0.10;        ///< small queue's share of the capacity
  double ghost_factor = 1.0;        ///< ghost entries remembered, per entry in the main queue
  std::uint8_t move_threshold = 2;  ///< hits in the small queue that earn a place in main
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
  [[nodiscard]] bool in_ghost(std::uint64_t hash) const noexcept { return ghost_.contains(hash); }

 private:
  static constexpr std::uint8_t kMaxFreq = 3;

  // Per id, in three arrays: the queue and counter every hit reads (2 bytes), the hash only
  // an eviction to the ghost reads, and the weights (none while all are 1). One 24-byte node
  // held the three before.
  struct Node {
    Queue queue = Queue::kNone;
    std::uint8_t freq = 0;
  };

  void push(EntryId id, Queue q) noexcept;
  void unlink(EntryId id) noexcept;
  EntryId decide();
  EntryId evict_from_main() noexcept;

  S3FifoConfig config_;
  Weight capacity_;
  Weight small_max_;
  Links links_;
  std::vector<Node> nodes_;
  std::vector<std::uint64_t> hashes_;
  UnitWeights<> weights_;
  IdList small_, main_;
  Weight small_weight_ = 0, main_weight_ = 0;
  GhostQueue ghost_;
  bool evicted_ = false;          // no eviction yet: the cache is still filling
  EntryId oversized_ = kNoEntry;  // last inserted entry if heavier than the capacity
  EntryId decided_ = kNoEntry;    // chosen by victim(), not yet removed
  bool decided_to_ghost_ = false;
};

static_assert(EvictionPolicy<S3FifoPolicy>);

}  // namespace stratacache::store
