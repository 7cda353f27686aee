#include "store/s3_fifo_policy.hpp"

#include <algorithm>

namespace stratacache::store {

S3FifoPolicy::S3FifoPolicy(Weight capacity, const S3FifoConfig& config)
    : config_(config),
      capacity_(capacity),
      small_max_(static_cast<Weight>(static_cast<double>(capacity) * config.small_share)) {}

void S3FifoPolicy::reserve(std::size_t n) {
  links_.nodes.reserve(n);
  nodes_.reserve(n);
  hashes_.reserve(n);
}

void S3FifoPolicy::push(EntryId id, Queue q) noexcept {
  Node& n = nodes_[id];
  n.queue = q;
  if (q == Queue::kSmall) {
    small_.push_back(links_, id);
    small_weight_ += weights_[id];
  } else {
    main_.push_back(links_, id);
    main_weight_ += weights_[id];
  }
}

void S3FifoPolicy::unlink(EntryId id) noexcept {
  Node& n = nodes_[id];
  if (n.queue == Queue::kSmall) {
    small_.unlink(links_, id);
    small_weight_ -= weights_[id];
  } else if (n.queue == Queue::kMain) {
    main_.unlink(links_, id);
    main_weight_ -= weights_[id];
  }
  n.queue = Queue::kNone;
}

void S3FifoPolicy::on_insert(EntryId id, std::uint64_t hash, Weight w) {
  decided_ = kNoEntry;
  links_.ensure(id);
  if (id >= nodes_.size()) {
    nodes_.resize(links_.nodes.size());
    hashes_.resize(links_.nodes.size());
  }
  nodes_[id] = Node{Queue::kNone, 0};
  hashes_[id] = hash;
  weights_.set(id, w, links_.nodes.size());
  oversized_ = w > capacity_ ? id : kNoEntry;
  if (ghost_.take(hash)) {
    push(id, Queue::kMain);  // evicted recently, and back: not a one-hit wonder
  } else if (!evicted_ && small_weight_ + w > small_max_) {
    // While the cache fills, let main take what the small queue has no room for, so the
    // entries admitted before the first eviction are not all squeezed through 10%.
    push(id, Queue::kMain);
  } else {
    push(id, Queue::kSmall);
  }
}

void S3FifoPolicy::on_update(EntryId id, std::uint64_t hash, Weight w) {
  decided_ = kNoEntry;
  Node& n = nodes_[id];
  const Queue q = n.queue;
  unlink(id);
  weights_.set(id, w, links_.nodes.size());
  hashes_[id] = hash;
  // A replaced value is as fresh as a new one: it rejoins its queue's tail and counts as a hit.
  push(id, q);
  if (n.freq < kMaxFreq) ++n.freq;
  oversized_ = w > capacity_ ? id : kNoEntry;
}

void S3FifoPolicy::on_remove(EntryId id) {
  if (id == decided_ && decided_to_ghost_) {
    const auto cap =
        static_cast<std::size_t>(config_.ghost_factor * static_cast<double>(main_.size()));
    ghost_.push(hashes_[id], std::max<std::size_t>(cap, 1));
  }
  if (id == decided_) decided_ = kNoEntry;
  if (id == oversized_) oversized_ = kNoEntry;
  unlink(id);
}

std::optional<EntryId> S3FifoPolicy::victim() {
  if (small_.empty() && main_.empty()) return std::nullopt;
  if (decided_ == kNoEntry) {
    decided_to_ghost_ = false;
    decided_ = oversized_ != kNoEntry ? oversized_ : decide();
    evicted_ = true;
  }
  return decided_;
}

EntryId S3FifoPolicy::decide() {
  if (main_weight_ > capacity_ - std::min(small_max_, capacity_) || small_.empty()) {
    return evict_from_main();
  }
  // Scan the small queue until one entry is evicted; hit entries graduate to main on the way.
  while (!small_.empty()) {
    const EntryId id = small_.head();
    Node& n = nodes_[id];
    if (n.freq < config_.move_threshold) {
      decided_to_ghost_ = true;
      return id;
    }
    unlink(id);
    n.freq = 0;
    push(id, Queue::kMain);
  }
  return evict_from_main();
}

EntryId S3FifoPolicy::evict_from_main() noexcept {
  // Terminates: each pass decrements a counter, and counters are at most 3.
  for (;;) {
    const EntryId id = main_.head();
    Node& n = nodes_[id];
    if (n.freq == 0) return id;
    --n.freq;
    main_.move_to_back(links_, id);
  }
}

void S3FifoPolicy::clear() {
  small_.reset();
  main_.reset();
  for (Node& n : nodes_) n.queue = Queue::kNone;
  small_weight_ = main_weight_ = 0;
  ghost_.clear();
  evicted_ = false;
  oversized_ = kNoEntry;
  decided_ = kNoEntry;
}

}  // namespace stratacache::store
