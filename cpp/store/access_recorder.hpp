// AccessRecorder: a bounded log of recent store accesses (key hash, namespace hash, operation,
// time), spatially sampled by key hash, that any thread appends to without a lock.
//
// Sampling follows SHARDS [1]: a key is recorded iff mix64(key_hash) mod P < T, P = 2^24,
// T = round(rate * P). The choice depends on the key alone, so a recorded key keeps every one
// of its accesses, the log stands for a rate-R subset of the keys with their full history, and
// memory is flat whatever the key space: exactly the input SHARDS and miniature simulation need
// (a sample cache of R * S entries models a cache of S). The re-mix keeps the choice
// independent of the bits the store uses to pick shards and index entries.
//
// The log is a ring of 2^k slots. A writer takes a ticket with one fetch_add on the cursor and
// owns slot ticket mod 2^k; each slot is a seqlock [2] whose sequence is 2 * ticket + 1 while
// the record is being written and 2 * ticket + 2 once it is whole. A writer that finds its slot
// still held by an older ticket's writer, or already taken by a newer ticket (the ring lapped
// it), drops its record and counts it rather than wait: writers never block and never spin.
// A reader copies each slot and keeps it only if the sequence read before and after the copy is
// the even value of the ticket it expects there, so torn and overwritten slots are skipped.
//
// Invariants: a slot's sequence only grows; a record returned by `snapshot` was written whole
// by one writer, for the ticket its slot's sequence names; `snapshot` returns records in ticket
// order, which is the order the writers passed the cursor.
//
// [1] C. A. Waldspurger, N. Park, A. Garthwaite, I. Ahmad, "Efficient MRC Construction with
//     SHARDS", USENIX FAST 2015.
// [2] H.-J. Boehm, "Can Seqlocks Get Along With Programming Language Memory Models?",
//     MSPC 2012.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/hash.hpp"
#include "store/key_names.hpp"

namespace stratacache::store {

/// What an access did. The values are part of the trace format (see access_trace.hpp).
enum class AccessOp : std::uint8_t { kGetHit = 0, kGetMiss = 1, kSet = 2, kDelete = 3 };

/// One recorded access.
struct AccessRecord {
  Nanos time = 0;                    ///< the store's clock (monotonic ns)
  std::uint64_t key_hash = 0;        ///< the store's key hash
  std::uint32_t namespace_hash = 0;  ///< `namespace_hash(prefix)`
  AccessOp op = AccessOp::kGetHit;

  friend bool operator==(const AccessRecord&, const AccessRecord&) = default;
};

/// 32 bits identifying a key prefix (namespace) in records.
[[nodiscard]] constexpr std::uint32_t namespace_hash(std::string_view prefix) noexcept {
  return static_cast<std::uint32_t>(hash_bytes(prefix));
}

/// Counters of a recorder.
struct RecorderStats {
  double sample_rate = 1;      ///< T / P, the rate actually applied
  std::uint64_t capacity = 0;  ///< slots of the ring
  std::uint64_t recorded = 0;  ///< sampled accesses since construction (tickets taken)
  std::uint64_t dropped = 0;   ///< of those, lost to a slot another writer still held
};

/// Lock-free, bounded, sampled access log; every method is thread-safe.
class AccessRecorder {
 public:
  /// P: sampling values lie in [0, P).
  static constexpr std::uint64_t kModulus = std::uint64_t{1} << 24;
  /// The largest ring, 2^32 slots (128 GiB): far beyond any sensible request.
  static constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 32;

  /// Records `sample_rate` of the keys in a ring of `capacity` records, rounded up to a power
  /// of two. Throws Error{kInvalidConfig} unless the rate is in [2^-24, 1] and the capacity in
  /// [1, 2^32].
  AccessRecorder(double sample_rate, std::uint64_t capacity);

  /// True if accesses to this key are recorded.
  [[nodiscard]] bool sampled(std::uint64_t key_hash) const noexcept {
    return threshold_ == kModulus || (mix64(key_hash) & (kModulus - 1)) < threshold_;
  }

  /// Appends a record; call only for `sampled` keys. Never blocks.
  void record(std::uint64_t key_hash, std::uint32_t ns_hash, AccessOp op, Nanos time) noexcept;

  /// The records still in the ring, oldest first; slots being written are skipped.
  [[nodiscard]] std::vector<AccessRecord> snapshot() const;
  /// Appends to `out` the whole records of tickets [from, cursor), oldest first, and returns
  /// the cursor: the next call's `from`. Tickets already overwritten or still being written
  /// are skipped (a consumer counts them lost as cursor - from - appended).
  std::uint64_t read_since(std::uint64_t from, std::vector<AccessRecord>& out) const;

  /// Starts staging the names of recorded keys (at most `capacity` between two takes, see
  /// KeyNames); once.
  void keep_names(std::size_t capacity);
  /// The name table, or nullptr when names are not kept.
  [[nodiscard]] KeyNames* names() const noexcept { return names_.get(); }

  [[nodiscard]] RecorderStats stats() const noexcept;
  [[nodiscard]] double sample_rate() const noexcept {
    return static_cast<double>(threshold_) / static_cast<double>(kModulus);
  }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return mask_ + 1; }

 private:
  // 32 bytes: two slots per cache line. Fields are atomics so that a reader racing a writer is
  // a checked, not an undefined, race; relaxed order suffices between the sequence's fences.
  struct alignas(32) Slot {
    std::atomic<std::uint64_t> seq{0};
    std::atomic<std::int64_t> time{0};
    std::atomic<std::uint64_t> key_hash{0};
    std::atomic<std::uint64_t> tag{0};  // namespace hash << 8 | op
  };

  std::uint64_t threshold_;
  std::uint64_t mask_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<KeyNames> names_;
  // The cursor has a line to itself: every writer hits it, and nothing else should share it.
  alignas(64) std::atomic<std::uint64_t> cursor_{0};
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace stratacache::store
