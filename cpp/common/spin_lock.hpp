// A small test-and-test-and-set lock for critical sections of a few dozen instructions.
#pragma once

#include <atomic>
#include <thread>

namespace stratacache {

/// Shard lock: uncontended lock+unlock costs one atomic exchange and one store, several times
/// cheaper than std::mutex; under contention it spins briefly, then yields.
class SpinLock {
 public:
  // The uncontended exchange inline, the spinning out of line: GCC inlined neither while they
  // were one function, a call on every get and set.
  [[gnu::always_inline]] void lock() noexcept {
    if (!locked_.exchange(true, std::memory_order_acquire)) [[likely]]
      return;
    lock_contended();
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  [[gnu::always_inline]] void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  [[gnu::noinline, gnu::cold]] void lock_contended() noexcept {
    for (int spins = 0;; ++spins) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins > 64) std::this_thread::yield();
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }

  std::atomic<bool> locked_{false};
};

}  // namespace stratacache
