// A small test-and-test-and-set lock for critical sections of a few dozen instructions.
#pragma once

#include <atomic>
#include <thread>

namespace stratacache {

/// Shard lock: uncontended lock+unlock costs one atomic exchange and one store, several times
/// cheaper than std::mutex; under contention it spins briefly, then yields.
class SpinLock {
 public:
  void lock() noexcept {
    for (int spins = 0;; ++spins) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins > 64) std::this_thread::yield();
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace stratacache
