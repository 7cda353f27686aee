// KeyNames: the names (prefix + body) of recorded keys, staged by key hash between two drains,
// so that the predictor can keep the names of the keys it tracks and fetch them again.
// Bounded; filled from the recorder's cold path.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "common/hash.hpp"
#include "store/name_arena.hpp"

namespace stratacache::store {

/// Names staged together, in the order they came.
struct StagedNames {
  NameArena arena;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> entries;  ///< (hash, reference)
};

/// A staging table of the latest names, in two generations of at most `capacity` each; every
/// method is thread-safe. `remember` never blocks: when another thread holds the table it gives
/// up (the key's next sampled access tries again), as the recorder does with a busy slot. When
/// the newer generation is full it becomes the older one, and the older one's names are
/// dropped (counted refused): the stage always holds the latest `capacity` names, those of the
/// keys the owner (the predictor, which tracks the newest keys) is likeliest to track. The
/// owner keeps the names of its keys and takes the stage often, so a key's name is staged
/// again at its first sampled access after each take: a copy on the cold path, not an entry
/// held per key.
class KeyNames {
 public:
  explicit KeyNames(std::size_t capacity) : capacity_(capacity) {}

  /// Stages the name of `hash` unless it is staged already or the table is busy.
  void remember(std::uint64_t hash, std::string_view prefix, std::string_view body) noexcept;
  /// Hands over the staged names, older generation first, and empties the stage (its memory
  /// goes with them).
  [[nodiscard]] std::array<StagedNames, 2> take();
  /// Names staged now.
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Heap bytes the stage holds: arena chunks, entry lists and indexes.
  [[nodiscard]] std::size_t bytes() const;
  /// Names dropped unread (with a full older generation) or refused (too long, no memory).
  [[nodiscard]] std::uint64_t refused() const;

 private:
  struct Generation {
    StagedNames names;
    std::vector<std::uint32_t> index;  ///< linear probing; entry number + 1, 0: empty

    [[nodiscard]] bool contains(std::uint64_t hash) const noexcept;
    void insert(std::uint64_t hash, std::uint32_t ref);
    [[nodiscard]] std::size_t bytes() const noexcept;
  };

  static std::size_t home(std::uint64_t hash, std::size_t slots) noexcept {
    return static_cast<std::size_t>(mix64(hash)) & (slots - 1);
  }

  std::size_t capacity_;
  mutable std::mutex lock_;
  Generation newer_;
  Generation older_;
  std::uint64_t refused_ = 0;  // written under lock_ only (a busy table is not counted)
};

}  // namespace stratacache::store
