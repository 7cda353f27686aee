// L1 store: the in-process tier. Keys are bytes with a caller-supplied 64-bit hash, values are
// opaque; bounded by entries and/or bytes, with per-entry TTL and a pluggable eviction policy.
// `Store<Value>` is the runtime interface; `ShardedStore<Value, Policy>` implements it.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "stats/counter.hpp"
#include "stats/latencies.hpp"
#include "stats/namespace_table.hpp"

namespace stratacache::store {

class AccessRecorder;

/// Whether the `n` bytes at `a` and `b` are equal. Keys are mostly short, and for up to 16 bytes
/// two overlapping loads per side compare them inline: a call to memcmp, with the registers
/// saved around it, cost more than the comparison (two calls per probe, prefix and body).
[[nodiscard, gnu::always_inline]] inline bool same_bytes(const char* a, const char* b,
                                                         std::size_t n) noexcept {
  const auto load = [](const char* p, auto word) {
    std::memcpy(&word, p, sizeof word);
    return word;
  };
  if (n >= 8) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    const std::uint64_t w = 0;
    return ((load(a, w) ^ load(b, w)) | (load(a + n - 8, w) ^ load(b + n - 8, w))) == 0;
  }
  if (n >= 4) {
    const std::uint32_t w = 0;
    return ((load(a, w) ^ load(b, w)) | (load(a + n - 4, w) ^ load(b + n - 4, w))) == 0;
  }
  if (n >= 2) {
    const std::uint16_t w = 0;
    return ((load(a, w) ^ load(b, w)) | (load(a + n - 2, w) ^ load(b + n - 2, w))) == 0;
  }
  return n == 0 || *a == *b;
}

/// A key given in two parts (namespace prefix and body) so callers never concatenate to look up.
struct KeyView {
  std::string_view prefix;
  std::string_view body;
  /// The prefix's counter slot when the caller resolved it (`Store::namespace_slot`); left
  /// unresolved, the store looks the prefix up.
  stats::NamespaceSlot ns = stats::kUnresolvedSlot;

  [[nodiscard]] std::size_t size() const noexcept { return prefix.size() + body.size(); }
  [[nodiscard]] bool equals(std::string_view full) const noexcept {
    // The parts compared in place, not substr() and ==: those add bounds checks and a
    // three-way compare to every probe of a lookup (a fifth of a get-hit's instructions).
    return full.size() == size() && same_bytes(full.data(), prefix.data(), prefix.size()) &&
           same_bytes(full.data() + prefix.size(), body.data(), body.size());
  }
  [[nodiscard]] std::string materialize() const {
    std::string s;
    s.reserve(size());
    s.append(prefix).append(body);
    return s;
  }
};

/// Construction parameters; at least one bound must be non-zero.
struct StoreConfig {
  std::uint64_t max_entries = 0;  ///< 0: no bound on the entry count
  std::uint64_t max_bytes = 0;    ///< 0: no bound on the summed weights
  std::size_t shards = 0;         ///< power of two; 0 picks from the capacity
  bool strict = false;            ///< throw kValueTooLarge instead of counting a rejection
  const Clock* clock = nullptr;   ///< nullptr: the steady clock
  /// Logs sampled accesses (get hits and misses, sets, deletes); nullptr: recording is off.
  /// Borrowed, like `clock`: it must outlive the store.
  AccessRecorder* recorder = nullptr;
  /// Times a sample of get/set/delete calls into its L1 histograms; nullptr: timing is off.
  /// Borrowed, like `clock`.
  stats::Latencies* latencies = nullptr;
};

/// Counters, summed over shards.
struct StoreStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t sets = 0;
  std::uint64_t rejected = 0;          ///< values heavier than a shard's byte budget
  std::uint64_t evicted_size = 0;      ///< removed to respect a bound
  std::uint64_t evicted_expired = 0;   ///< removed because their TTL ran out
  std::uint64_t evicted_explicit = 0;  ///< removed by delete / clear
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
};

/// The counters of one namespace (key prefix); `overflow` marks the slot shared by the
/// namespaces beyond the table's bound.
struct NamespaceStats {
  std::string prefix;
  bool overflow = false;
  StoreStats stats;
};

/// Outcome of a set.
enum class SetOutcome { kInserted, kReplaced, kRejected, kExpired };

/// Remaining lifetime of a key.
struct TtlInfo {
  enum class State { kMissing, kNoExpiry, kExpires } state = State::kMissing;
  Nanos remaining = 0;
};

/// TTL meaning "never expires".
inline constexpr std::optional<Nanos> kNoTtl = std::nullopt;

/// Runtime interface of an L1 store. Every method is thread-safe. Values that leave the store
/// (replaced, evicted, deleted) are appended to `dropped`, never destroyed under a lock.
template <class Value>
class Store {
 public:
  virtual ~Store() = default;

  /// Copy of the live value, or nullopt (a miss). Counts a hit or a miss.
  virtual std::optional<Value> get(const KeyView& key, std::uint64_t hash) = 0;
  /// Like get on a hit; a miss is not recorded (for a caller that falls back to `get`).
  virtual std::optional<Value> probe(const KeyView& key, std::uint64_t hash) = 0;
  /// Like get, without touching counters or recency.
  virtual std::optional<Value> peek(const KeyView& key, std::uint64_t hash) = 0;
  /// Stores `value` with weight `bytes`; ttl nullopt = no expiry, 0 = already expired (the key
  /// is removed). Throws kInvalidTtl for a negative ttl, kValueTooLarge when strict.
  virtual SetOutcome set(const KeyView& key, std::uint64_t hash, Value value, std::uint64_t bytes,
                         std::optional<Nanos> ttl, std::vector<Value>& dropped) = 0;
  /// Removes the key; true if it was live.
  virtual bool erase(const KeyView& key, std::uint64_t hash, std::vector<Value>& dropped) = 0;
  /// True if a live value is stored; no counters, no recency.
  virtual bool contains(const KeyView& key, std::uint64_t hash) = 0;
  /// Credits a key predicted to be read (warming, once it is loaded) with one read in the
  /// policy (`on_expect`: W-TinyLFU's sketch counts it); no counter, recorder or recency hears
  /// of it. Loaded blind, a warmed key would count as often as a key read once, and the first
  /// one-off misses would evict it. Call it after the load: a sketch that grows while the
  /// store fills forgets its counts. True if a live value is stored.
  virtual bool expect(const KeyView& key, std::uint64_t hash) = 0;
  virtual TtlInfo ttl(const KeyView& key, std::uint64_t hash) = 0;
  /// Resets the key's TTL; false if the key is missing.
  virtual bool touch(const KeyView& key, std::uint64_t hash, std::optional<Nanos> ttl,
                     std::vector<Value>& dropped) = 0;
  /// Removes every key that starts with `prefix` ("" = all); returns how many.
  virtual std::size_t erase_prefix(std::string_view prefix, std::vector<Value>& dropped) = 0;
  /// Reclaims expired entries now (they are otherwise reclaimed lazily).
  virtual std::size_t expire(std::vector<Value>& dropped) = 0;
  /// Live keys that start with `prefix`, in no particular order.
  virtual std::vector<std::string> keys(std::string_view prefix) = 0;

  [[nodiscard]] virtual StoreStats stats() const = 0;
  /// Counters per namespace, read without locking (each may lag the others by a few calls).
  /// The overflow slot is listed (last) only when something was counted in it.
  [[nodiscard]] virtual std::vector<NamespaceStats> namespace_stats() const = 0;
  /// The counter slot of a key prefix, for callers that look up many keys under one prefix.
  [[nodiscard]] virtual stats::NamespaceSlot namespace_slot(std::string_view prefix) = 0;
  /// The histograms this store times its calls into, or nullptr.
  [[nodiscard]] virtual stats::Latencies* latencies() const noexcept = 0;
  [[nodiscard]] virtual std::size_t size() const = 0;
  [[nodiscard]] virtual std::size_t shard_count() const = 0;
  [[nodiscard]] virtual std::string_view policy_name() const = 0;
  /// The recorder this store logs accesses to, or nullptr.
  [[nodiscard]] virtual AccessRecorder* recorder() const noexcept = 0;
  /// Bytes of bookkeeping the store holds beyond key and value bytes (for the memory benchmark).
  [[nodiscard]] virtual std::size_t overhead_bytes() const = 0;
};

}  // namespace stratacache::store
