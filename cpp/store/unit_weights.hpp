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
    if (weights_.empty()) {
      if (w == 1) [[likely]]
        return;
    } else if (id < weights_.size()) {
      weights_[id] = static_cast<T>(w);
      return;
    }
    grow_and_set(id, w, ids);
  }
  [[nodiscard]] std::size_t capacity_bytes() const noexcept {
    return weights_.capacity() * sizeof(T);
  }

 private:
  // Out of line: the first weight other than 1, or an id past the array.
  [[gnu::noinline]] void grow_and_set(EntryId id, Weight w, std::size_t ids) {
    if (id >= weights_.size()) weights_.resize(ids, 1);
    weights_[id] = static_cast<T>(w);
  }

  std::vector<T> weights_;  // empty: every weight is 1
};

}  // namespace stratacache::store
