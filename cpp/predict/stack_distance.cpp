#include "predict/stack_distance.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace stratacache::predict {

StackDistances::StackDistances(std::size_t expected_keys, std::size_t timestamps)
    : ids_(expected_keys),
      id_at_(std::max<std::size_t>(std::max(timestamps, 2 * expected_keys), 64)),
      tree_(id_at_.size() + 1, 0) {}

std::uint64_t StackDistances::access(std::int64_t key, std::uint64_t hash) {
  if (now_ == id_at_.size()) compact();
  std::uint32_t id = ids_.find(key, hash);
  std::uint64_t distance = kCold;
  if (id != KeyMap::kAbsent) {
    const std::uint32_t t = time_of_[id];
    distance = live_ - prefix(t);  // the 1s after t: keys requested since
    add(t, -1);
    --live_;
  } else {
    if (free_ids_.empty()) {
      id = static_cast<std::uint32_t>(time_of_.size());
      time_of_.push_back(kNoTime);
      key_of_.push_back(key);
    } else {
      id = free_ids_.back();
      free_ids_.pop_back();
      key_of_[id] = key;
    }
    ids_.insert(key, hash, id);
  }
  last_id_ = id;
  id_at_[now_] = id;
  time_of_[id] = now_;
  add(now_, 1);
  ++live_;
  ++now_;
  return distance;
}

void StackDistances::forget(std::int64_t key, std::uint64_t hash) {
  const std::uint32_t id = ids_.find(key, hash);
  if (id == KeyMap::kAbsent) return;
  add(time_of_[id], -1);
  --live_;
  time_of_[id] = kNoTime;
  ids_.erase(key, hash);
  free_ids_.push_back(id);
}

void StackDistances::forget_oldest() {
  if (live_ == 0) return;
  // Timestamps below oldest_ belong to no live key; the first that still does is the oldest.
  while (time_of_[id_at_[oldest_]] != oldest_) ++oldest_;
  const std::int64_t key = key_of_[id_at_[oldest_]];
  forget(key, KeyMap::hash_of(key));
}

void StackDistances::add(std::uint32_t t, std::int32_t delta) noexcept {
  // Unsigned wrap-around makes adding -1 a subtraction.
  const auto d = static_cast<std::uint32_t>(delta);
  for (std::size_t i = std::size_t{t} + 1; i < tree_.size(); i += i & (~i + 1)) tree_[i] += d;
}

std::uint64_t StackDistances::prefix(std::uint32_t t) const noexcept {
  std::uint64_t sum = 0;
  for (std::size_t i = std::size_t{t} + 1; i > 0; i -= i & (~i + 1)) sum += tree_[i];
  return sum;
}

void StackDistances::compact() {
  // At least half the new timestamps stay free, so a compaction is paid for by the requests
  // that fill them.
  const std::size_t capacity = std::max(id_at_.size(), 2 * live_ + 64);
  if (capacity >= kNoTime) {
    throw Error(ErrorCode::kInvalidConfig, "too many distinct keys for stack distances");
  }
  std::vector<std::uint32_t>& order = spare_;
  order.resize(capacity);
  std::uint32_t next = 0;
  for (std::uint32_t t = 0; t < now_; ++t) {
    const std::uint32_t id = id_at_[t];
    if (time_of_[id] != t) continue;  // a later request of the key, or forgotten
    order[next] = id;
    time_of_[id] = next++;
  }
  id_at_.swap(order);
  now_ = next;
  oldest_ = 0;
  // Linear-time Fenwick construction: each node passes its sum up to its parent once.
  tree_.assign(capacity + 1, 0);
  for (std::size_t i = 1; i < tree_.size(); ++i) {
    if (i <= next) tree_[i] += 1;
    const std::size_t parent = i + (i & (~i + 1));
    if (parent < tree_.size()) tree_[parent] += tree_[i];
  }
}

}  // namespace stratacache::predict
