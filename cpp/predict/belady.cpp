#include "predict/belady.hpp"

#include <algorithm>
#include <limits>

#include "common/error.hpp"
#include "predict/key_map.hpp"

namespace stratacache::predict {
namespace {

// Heap entries pack (next use << 32 | dense key id): the largest is the farthest next use.
[[nodiscard]] std::uint64_t pack(std::uint32_t next_use, std::uint32_t key) noexcept {
  return (std::uint64_t{next_use} << 32) | key;
}
[[nodiscard]] std::uint32_t next_use_of(std::uint64_t e) noexcept {
  return static_cast<std::uint32_t>(e >> 32);
}
[[nodiscard]] std::uint32_t key_of(std::uint64_t e) noexcept {
  return static_cast<std::uint32_t>(e);
}

// Dense ids 0..unique-1 in order of first appearance.
std::vector<std::uint32_t> dense_ids(std::span<const std::int64_t> keys, std::uint32_t& unique) {
  if (keys.size() >= std::numeric_limits<std::uint32_t>::max()) {
    throw Error(ErrorCode::kInvalidConfig, "trace too long for the optimal policy");
  }
  KeyMap ids;
  std::vector<std::uint32_t> out(keys.size());
  unique = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::uint64_t h = KeyMap::hash_of(keys[i]);
    std::uint32_t id = ids.find(keys[i], h);
    if (id == KeyMap::kAbsent) {
      id = unique++;
      ids.insert(keys[i], h, id);
    }
    out[i] = id;
  }
  return out;
}

// Next-use index of each request, given dense key ids per request.
std::vector<std::uint32_t> next_uses_of(const std::vector<std::uint32_t>& ids,
                                        std::uint32_t unique) {
  const auto n = static_cast<std::uint32_t>(ids.size());
  std::vector<std::uint32_t> next(n);
  std::vector<std::uint32_t> seen_at(unique, n);
  for (std::uint32_t i = n; i-- > 0;) {
    next[i] = seen_at[ids[i]];
    seen_at[ids[i]] = i;
  }
  return next;
}

}  // namespace

std::vector<std::uint32_t> next_uses(std::span<const std::int64_t> keys) {
  std::uint32_t unique = 0;
  const std::vector<std::uint32_t> ids = dense_ids(keys, unique);  // sets `unique`: call first
  return next_uses_of(ids, unique);
}

SimulationResult simulate_opt(std::span<const std::int64_t> keys, std::uint64_t capacity,
                              std::span<const double> miss_weights) {
  if (capacity == 0) throw Error(ErrorCode::kInvalidConfig, "capacity must be at least 1");
  std::uint32_t unique = 0;
  const std::vector<std::uint32_t> id = dense_ids(keys, unique);
  const std::vector<std::uint32_t> next = next_uses_of(id, unique);
  const auto n = static_cast<std::uint32_t>(keys.size());

  // A key is cached iff cached_next[key] != kOut; its valid heap entry carries that next use.
  // Hits leave stale entries behind; they are skipped at the top and purged when too many.
  constexpr std::uint32_t kOut = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> cached_next(unique, kOut);
  std::vector<std::uint64_t> heap;
  std::uint64_t size = 0;
  const auto valid = [&](std::uint64_t e) { return cached_next[key_of(e)] == next_use_of(e); };
  SimulationResult result;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t k = id[i];
    const std::uint32_t nu = next[i];
    if (cached_next[k] != kOut) {
      ++result.hits;
    } else {
      ++result.misses;
      if (!miss_weights.empty()) result.weighted_misses += miss_weights[i];
      if (nu == n) continue;  // never requested again: bypass
      if (size == capacity) {
        while (!valid(heap.front())) {
          std::pop_heap(heap.begin(), heap.end());
          heap.pop_back();
        }
        if (next_use_of(heap.front()) < nu) continue;  // the new key is the farthest: bypass
        cached_next[key_of(heap.front())] = kOut;
        std::pop_heap(heap.begin(), heap.end());
        heap.pop_back();
        --size;
      }
      ++size;
    }
    cached_next[k] = nu;
    heap.push_back(pack(nu, k));
    std::push_heap(heap.begin(), heap.end());
    if (heap.size() > 4 * size + 1024) {
      std::erase_if(heap, [&](std::uint64_t e) { return !valid(e); });
      std::make_heap(heap.begin(), heap.end());
    }
  }
  return result;
}

}  // namespace stratacache::predict
