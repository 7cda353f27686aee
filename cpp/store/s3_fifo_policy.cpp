#include "store/s3_fifo_policy.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace stratacache::store {

namespace {

// Bit i set: fps[i] == fp, for the 8 fingerprints of a bucket (16-byte aligned).
[[gnu::always_inline]] inline unsigned matches(const std::uint32_t* fps,
                                               std::uint32_t fp) noexcept {
#if defined(__SSE2__)
  const __m128i key = _mm_set1_epi32(static_cast<int>(fp));
  const __m128i lo = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(fps)), key);
  const __m128i hi =
      _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(fps + 4)), key);
  return static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(lo))) |
         (static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(hi))) << 4);
#else
  unsigned m = 0;
  for (unsigned i = 0; i < 8; ++i) m |= static_cast<unsigned>(fps[i] == fp) << i;
  return m;
#endif
}

}  // namespace

void S3Ghost::place(std::uint32_t fp, std::uint32_t seq) noexcept {
  Bucket& b = buckets_[bucket_of(fp)];
  // Pushed again: only the newest copy counts (fingerprints are unique within a bucket).
  if (const unsigned m = matches(b.fp, fp); m != 0) b.fp[std::countr_zero(m)] = 0;
  const std::uint32_t i = b.next;
  b.fp[i] = fp;
  b.seq[i] = seq;
  b.next = i + 1 == kWays ? 0 : i + 1;
}

void S3Ghost::push(std::uint64_t hash, std::size_t capacity) {
  if (capacity > 2 * buckets_.size()) [[unlikely]]
    grow(capacity);
  place(fingerprint(hash), ++pushes_);
}

bool S3Ghost::take(std::uint64_t hash, std::size_t capacity) noexcept {
  if (buckets_.empty()) return false;
  const std::uint32_t fp = fingerprint(hash);
  Bucket& b = buckets_[bucket_of(fp)];
  const unsigned m = matches(b.fp, fp);
  if (m == 0) return false;
  const auto i = static_cast<unsigned>(std::countr_zero(m));
  b.fp[i] = 0;  // expired or taken: either way it is gone
  return age(b.seq[i]) < capacity;
}

bool S3Ghost::contains(std::uint64_t hash, std::size_t capacity) const noexcept {
  if (buckets_.empty()) return false;
  const std::uint32_t fp = fingerprint(hash);
  const Bucket& b = buckets_[bucket_of(fp)];
  const unsigned m = matches(b.fp, fp);
  return m != 0 && age(b.seq[std::countr_zero(m)]) < capacity;
}

void S3Ghost::grow(std::size_t capacity) {
  std::size_t n = std::max(kMinBuckets, buckets_.size());
  while (2 * n < capacity) n *= 2;
  std::vector<Bucket> old(n);
  old.swap(buckets_);
  shift_ = 32 - static_cast<unsigned>(std::countr_zero(n));
  // Oldest first, so that a bucket that overflows keeps the newest.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> live;  // {age, fp}
  for (const Bucket& b : old) {
    for (std::uint32_t i = 0; i < kWays; ++i) {
      if (b.fp[i] != 0 && age(b.seq[i]) < capacity) live.emplace_back(age(b.seq[i]), b.fp[i]);
    }
  }
  std::sort(live.begin(), live.end(), std::greater<>());
  for (const auto& [a, fp] : live) place(fp, pushes_ - a);
}

void S3Ghost::clear() noexcept {
  for (Bucket& b : buckets_) b = Bucket{};
  pushes_ = 0;
}

S3FifoPolicy::S3FifoPolicy(Weight capacity, const S3FifoConfig& config)
    : config_(config),
      ghost_scale_(
          static_cast<std::size_t>(std::clamp(config.ghost_factor, 0.0, 65536.0) * 65536.0)),
      capacity_(capacity),
      small_max_(static_cast<Weight>(static_cast<double>(capacity) * config.small_share)) {}

void S3FifoPolicy::reserve(std::size_t n) {
  links_.nodes.reserve(n);
  nodes_.reserve(n);
  hashes_.reserve(n);
}

inline void S3FifoPolicy::push(EntryId id, Queue q) noexcept {
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

inline void S3FifoPolicy::unlink(EntryId id) noexcept {
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
  if (ghost_.take(hash, ghost_capacity())) {
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
  if (id == decided_ && decided_to_ghost_) ghost_.push(hashes_[id], ghost_capacity());
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
