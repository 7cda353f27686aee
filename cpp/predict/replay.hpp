// The replay loop behind `simulate`: drives one eviction policy the way the store does (miss,
// insert, evict while over capacity; or hit), with every object weighing 1.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "predict/key_map.hpp"
#include "predict/simulator.hpp"
#include "store/eviction_policy.hpp"

namespace stratacache::predict {

/// Replays `keys` through `policy`, which was constructed with `capacity`, and counts hits.
/// Exposed as a template so benchmarks can replay policies built with non-default tuning.
/// With `miss_weights` (one per request), their sum over the misses is `weighted_misses`.
template <store::EvictionPolicy Policy>
[[nodiscard]] SimulationResult replay(std::span<const std::int64_t> keys, Policy& policy,
                                      std::uint64_t capacity,
                                      std::span<const double> miss_weights = {}) {
  KeyMap index(static_cast<std::size_t>(std::min<std::uint64_t>(capacity, keys.size()) + 1));
  std::vector<std::int64_t> key_of;  // by entry id
  std::vector<store::EntryId> free_ids;
  std::uint64_t live = 0;
  SimulationResult result;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::int64_t key = keys[i];
    const std::uint64_t hash = KeyMap::hash_of(key);
    if (const std::uint32_t id = index.find(key, hash); id != KeyMap::kAbsent) {
      ++result.hits;
      policy.on_access(id, hash);
      continue;
    }
    ++result.misses;
    if (!miss_weights.empty()) result.weighted_misses += miss_weights[i];
    policy.on_miss(hash);
    store::EntryId id;
    if (!free_ids.empty()) {
      id = free_ids.back();
      free_ids.pop_back();
      key_of[id] = key;
    } else {
      id = static_cast<store::EntryId>(key_of.size());
      key_of.push_back(key);
    }
    index.insert(key, hash, id);
    policy.on_insert(id, hash, 1);
    ++live;
    while (live > capacity) {
      const auto victim = policy.victim();
      if (!victim) break;
      const std::int64_t gone = key_of[*victim];
      index.erase(gone, KeyMap::hash_of(gone));
      policy.on_remove(*victim);
      free_ids.push_back(*victim);
      --live;
    }
  }
  return result;
}

}  // namespace stratacache::predict
