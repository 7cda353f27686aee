// Drives an eviction policy the way ShardedStore does, with integer keys, so policy tests can
// speak of keys and check the store-side invariants (tracked weight, live victims) as they go.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/hash.hpp"
#include "store/eviction_policy.hpp"

namespace stratacache::store::testing {

template <class Policy>
class Harness {
 public:
  explicit Harness(Weight capacity) : policy(capacity), capacity_(capacity) {}

  /// A get, then a set on a miss (cache-aside). Returns true on a hit.
  bool access(std::uint64_t key, Weight w = 1) {
    const std::uint64_t h = mix64(key);
    if (const auto it = ids_.find(key); it != ids_.end()) {
      policy.on_access(it->second, h);
      return true;
    }
    policy.on_miss(h);
    insert(key, w);
    return false;
  }

  /// A set of an absent key, without a preceding get.
  void insert(std::uint64_t key, Weight w = 1) {
    EntryId id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      id = static_cast<EntryId>(slots_.size());
      slots_.emplace_back();
    }
    slots_[id] = Slot{key, w, true};
    ids_[key] = id;
    total_ += w;
    policy.on_insert(id, mix64(key), w);
    evict();
  }

  /// A set of a present key with a new weight.
  void update(std::uint64_t key, Weight w) {
    const EntryId id = ids_.at(key);
    total_ = total_ - slots_[id].weight + w;
    slots_[id].weight = w;
    policy.on_update(id, mix64(key), w);
    evict();
  }

  /// An explicit delete.
  void erase(std::uint64_t key) { remove(ids_.at(key)); }

  [[nodiscard]] bool contains(std::uint64_t key) const { return ids_.contains(key); }
  [[nodiscard]] std::optional<EntryId> id_of(std::uint64_t key) const {
    const auto it = ids_.find(key);
    return it == ids_.end() ? std::nullopt : std::optional<EntryId>(it->second);
  }
  [[nodiscard]] Weight total() const { return total_; }
  [[nodiscard]] std::size_t size() const { return ids_.size(); }

  Policy policy;
  std::vector<std::uint64_t> evicted;  // keys, in eviction order

 private:
  struct Slot {
    std::uint64_t key = 0;
    Weight weight = 0;
    bool live = false;
  };

  void evict() {
    while (total_ > capacity_) {
      const std::optional<EntryId> v = policy.victim();
      ASSERT_TRUE(v.has_value()) << "over capacity but no victim";
      ASSERT_LT(*v, slots_.size());
      ASSERT_TRUE(slots_[*v].live) << "victim " << *v << " is not a live entry";
      evicted.push_back(slots_[*v].key);
      remove(*v);
    }
  }

  void remove(EntryId id) {
    ids_.erase(slots_[id].key);
    total_ -= slots_[id].weight;
    slots_[id].live = false;
    policy.on_remove(id);
    free_.push_back(id);
  }

  Weight capacity_;
  Weight total_ = 0;
  std::vector<Slot> slots_;
  std::vector<EntryId> free_;
  std::unordered_map<std::uint64_t, EntryId> ids_;
};

}  // namespace stratacache::store::testing
