// Where a lock-guarded table lives, for prefetching its lines before the lock is taken.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace stratacache {

/// The base and index mask of a table of `Stride`-byte elements, published by its owner (under
/// the owner's lock) whenever the table moves, and read with no lock at all: a reader racing a
/// move sees a stale or mixed pair and prefetches a line nobody needs, which is harmless (a
/// prefetch never faults) and no data race (relaxed atomics, addresses as integers).
///
/// Why: a get spends most of its time waiting on the lines of its hash's index slot and sketch
/// block. Issued before the shard lock's atomic exchange, whose barrier holds back the loads
/// after it, those misses overlap with it instead of following it.
template <std::size_t Stride>
class PrefetchHint {
 public:
  PrefetchHint() = default;
  // Moving a table keeps its buffer (std::vector), so a moved hint stays right; a copied table
  // has a buffer of its own, which only its owner can publish: no copies.
  PrefetchHint(const PrefetchHint&) = delete;
  PrefetchHint& operator=(const PrefetchHint&) = delete;
  PrefetchHint(PrefetchHint&& other) noexcept { *this = std::move(other); }
  PrefetchHint& operator=(PrefetchHint&& other) noexcept {
    base_.store(other.base_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    mask_.store(other.mask_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
  ~PrefetchHint() = default;

  /// The table now starts at `base` and holds `mask + 1` elements (a power of two).
  void publish(const void* base, std::size_t mask) noexcept {
    base_.store(reinterpret_cast<std::uintptr_t>(base), std::memory_order_relaxed);
    mask_.store(mask, std::memory_order_relaxed);
  }

  /// Starts loading the line of element `index & mask` into the cache.
  [[gnu::always_inline]] void prefetch(std::size_t index) const noexcept {
    const std::uintptr_t at = base_.load(std::memory_order_relaxed) +
                              (index & mask_.load(std::memory_order_relaxed)) * Stride;
    __builtin_prefetch(reinterpret_cast<const void*>(at));  // NOLINT(performance-no-int-to-ptr)
  }

 private:
  std::atomic<std::uintptr_t> base_{0};
  std::atomic<std::size_t> mask_{0};
};

}  // namespace stratacache
