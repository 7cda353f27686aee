// LRU stack distances of a key stream: how many distinct keys were requested since a key's
// previous request. An LRU cache of C entries hits exactly the requests whose distance is < C.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "predict/key_map.hpp"

namespace stratacache::predict {

/// Stack distances in O(log M) per request for M live keys (Mattson et al. [1], with the
/// order-statistics counting of Bennett and Kruskal [2]).
///
/// Every request gets a timestamp; a Fenwick tree over timestamps holds a 1 at the latest
/// timestamp of each live key. A key's distance is then the number of 1s after its previous
/// timestamp: one prefix sum. Timestamps are compacted (live keys renumbered in order) whenever
/// they run out, so memory follows the live keys rather than the requests, and keys can be
/// forgotten, as fixed-size SHARDS does when it lowers its sampling threshold.
///
/// Invariants: `live_` equals the number of 1s in the tree; each live key's timestamp holds
/// its id in `id_at_`, and `time_of_[id]` is that timestamp.
///
/// [1] R. L. Mattson, J. Gecsei, D. R. Slutz, I. L. Traiger, "Evaluation techniques for
///     storage hierarchies", IBM Systems Journal 1970.
/// [2] B. T. Bennett, V. J. Kruskal, "LRU stack processing", IBM J. R&D 1975.
class StackDistances {
 public:
  /// Distance of a key never requested before (or forgotten since).
  static constexpr std::uint64_t kCold = std::numeric_limits<std::uint64_t>::max();

  /// Tracks up to `expected_keys` live keys before growing, with room for `timestamps`
  /// requests between compactions (0: twice the keys). A stack kept small by `forget_oldest`
  /// compacts every `timestamps - size()` requests at a cost of `timestamps`: a wider window
  /// makes that cheaper per request, for a deeper tree.
  explicit StackDistances(std::size_t expected_keys = 1024, std::size_t timestamps = 0);

  /// Records a request of `key` (`hash` is `KeyMap::hash_of(key)`) and returns the number of
  /// distinct other keys requested since its previous request, or kCold.
  std::uint64_t access(std::int64_t key, std::uint64_t hash);

  /// Forgets `key`: its next request is cold again. No-op for an unknown key.
  void forget(std::int64_t key, std::uint64_t hash);

  /// Forgets the key requested least recently (no-op when none is tracked), so that a stack
  /// kept at D keys gives exact distances below D and kCold for the others, in O(D) memory.
  void forget_oldest();

  /// The dense id of the key of the latest `access`: ids run from 0 up, and a forgotten key's
  /// id is given to a later new key.
  [[nodiscard]] std::uint32_t last_id() const noexcept { return last_id_; }

  /// Keys currently tracked.
  [[nodiscard]] std::size_t size() const noexcept { return live_; }

 private:
  static constexpr std::uint32_t kNoTime = std::numeric_limits<std::uint32_t>::max();

  void add(std::uint32_t t, std::int32_t delta) noexcept;
  [[nodiscard]] std::uint64_t prefix(std::uint32_t t) const noexcept;  // 1s in [0, t]
  void compact();

  KeyMap ids_;                          // key -> dense id
  std::vector<std::int64_t> key_of_;    // by id
  std::vector<std::uint32_t> time_of_;  // by id: latest timestamp, kNoTime once forgotten
  std::vector<std::uint32_t> free_ids_;
  std::vector<std::uint32_t> id_at_;  // by timestamp: the id requested then
  std::vector<std::uint32_t> spare_;  // compact()'s next id_at_
  std::vector<std::uint32_t> tree_;   // Fenwick tree, 1-based, over timestamps
  std::uint32_t now_ = 0;             // next timestamp
  std::size_t live_ = 0;
  std::uint32_t last_id_ = 0;
  std::uint32_t oldest_ = 0;  // no live key has a timestamp below it
};

}  // namespace stratacache::predict
