// Per-entry weights that cost nothing while every weight is 1 (a store bounded by its entry
// count weighs each entry 1): the array appears with the first other weight.
#pragma once

#include <cstddef>
#include <vector>

#include "store/eviction_policy.hpp"

namespace stratacache::store {

/// `T` is the stored type (the store keeps 32-bit weights, policies 64-bit ones).
template <class T = Weight>
class UnitWeights {
 public:
  [[nodiscard]] Weight operator[](EntryId id) const noexcept {
    return weights_.empty() ? 1 : weights_[id];
  }
  /// Sets the weight of `id`; `ids` is how many ids the owner tracks (> id).
  void set(EntryId id, Weight w, std::size_t ids) {
    if (weights_.empty() && w == 1) return;
    if (id >= weights_.size()) weights_.resize(ids, 1);
    weights_[id] = static_cast<T>(w);
  }
  [[nodiscard]] std::size_t capacity_bytes() const noexcept {
    return weights_.capacity() * sizeof(T);
  }

 private:
  std::vector<T> weights_;  // empty: every weight is 1
};

}  // namespace stratacache::store
