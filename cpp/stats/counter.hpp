// Stats: counters and latency histograms the engine keeps per namespace, operation and tier.
// Writers never wait on readers: counters are relaxed atomics, read approximately at any time.
#pragma once

#include <atomic>
#include <cstdint>

namespace stratacache::stats {

/// A counter with one writer at a time (the caller serializes writes, e.g. under a shard
/// lock) and any number of lock-free readers.
///
/// A load and a store instead of fetch_add: with writes already serialized, a locked
/// read-modify-write would only add cost to the hot path.
class Counter {
 public:
  // always_inline: GCC otherwise emits one out-of-line clone, a call on every get.
  [[gnu::always_inline]] void add(std::uint64_t n = 1) noexcept {
    // Relaxed is enough: stats are read approximately and never drive control flow.
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  [[gnu::always_inline]] void sub(std::uint64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t get() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// The L1 counters of one namespace in one shard.
struct NamespaceCounters {
  Counter hits, misses, sets, rejected;
  Counter evicted_size, evicted_expired, evicted_explicit;
  Counter entries, bytes;
};

/// A snapshot of NamespaceCounters, summed over shards.
struct CounterTotals {
  std::uint64_t hits = 0, misses = 0, sets = 0, rejected = 0;
  std::uint64_t evicted_size = 0, evicted_expired = 0, evicted_explicit = 0;
  std::uint64_t entries = 0, bytes = 0;

  void add(const NamespaceCounters& c) noexcept {
    hits += c.hits.get();
    misses += c.misses.get();
    sets += c.sets.get();
    rejected += c.rejected.get();
    evicted_size += c.evicted_size.get();
    evicted_expired += c.evicted_expired.get();
    evicted_explicit += c.evicted_explicit.get();
    entries += c.entries.get();
    bytes += c.bytes.get();
  }
};

}  // namespace stratacache::stats
