// The disk tier (L3): envelopes under keys in one directory, shared by every process of a host,
// bounded in bytes, with an absolute expiry per entry. LMDB underneath (see DiskStore).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stratacache::disk {

class Env;

/// How far a committed write survives: none = the OS writes it back (a process crash keeps it,
/// a power cut may not); flush = data synced, the meta page lazily (a power cut loses at most
/// the last transaction); sync = every commit synced before it returns.
enum class Durability { kNone, kFlush, kSync };

/// Milliseconds since the Unix epoch: expiry is absolute so other processes and restarts agree.
using WallMillis = std::int64_t;

/// What the store is opened with.
struct Options {
  std::string path;             ///< an existing directory (data.mdb and lock.mdb live in it)
  std::uint64_t max_bytes = 0;  ///< bound on the bytes the entries weigh (see DiskStore)
  Durability durability = Durability::kFlush;
  std::function<WallMillis()> now_ms;  ///< empty: the system clock
};

/// Counters of this process (hits ... rejected) and of the whole store (bytes, entries).
struct Stats {
  std::uint64_t hits = 0, misses = 0, sets = 0, deletes = 0, evictions = 0, expired = 0,
                corrupt = 0, rejected = 0;
  std::uint64_t bytes = 0, entries = 0, max_bytes = 0;
};

/// A stored envelope and the seconds it has left (infinity: never expires).
struct Hit {
  std::string envelope;
  double ttl_left = 0;
};

/// A byte-bounded, TTL-aware key -> envelope store over LMDB.
///
/// Each entry is a record `[expiry ms, int64][sequence, uint64][envelope]` in `entries`, and its
/// sequence is a key of `order`, the eviction queue. Eviction is FIFO by write (set and touch
/// take a new sequence), not LRU: an LRU would turn every hit into a write transaction, and LMDB
/// has one writer per host, while reads are lock-free snapshots of the mapped file. The byte
/// total lives in `meta` and changes in the same transaction as the entries, so the bound holds
/// after a crash. An entry weighs its key, its record rounded up to whole pages when it spills
/// to overflow pages, and a fixed overhead for the tree and the queue; the map is sized at twice
/// the bound plus slack, so copy-on-write pages and pinned snapshots fit. Expired entries are
/// never returned; they are removed when a write meets them at the head of the queue, by
/// `purge_expired`, or by eviction. Every call is bounded: a set evicts at most kMaxEvictions
/// entries, and `purge_expired`, `keys` and the prefix deletes work in bounded batches.
///
/// Thread-safe; processes share a directory safely (LMDB's robust lock file). Not fork-safe: a
/// forked child calls `abandon()` and opens its own store.
class DiskStore {
 public:
  /// Most entries one set evicts before refusing the value.
  static constexpr std::size_t kMaxEvictions = 4096;

  /// Opens (creating if empty) the store in `options.path`.
  /// Throws Error(kInvalidConfig) for a bad bound or an unwritable directory, kDisk for a
  /// damaged or truncated store file and other I/O failures.
  explicit DiskStore(Options options);
  ~DiskStore();
  DiskStore(const DiskStore&) = delete;
  DiskStore& operator=(const DiskStore&) = delete;

  /// The live envelope under `key` (counted as hit, miss, expired or corrupt).
  std::optional<Hit> get(std::string_view key);
  /// The live envelopes of `keys` (nullopt where there is none), from one snapshot.
  std::vector<std::optional<Hit>> get_many(const std::vector<std::string>& keys);
  /// Stores `envelope` for `ttl_seconds` (infinity: never expires; <= 0 removes the key).
  /// False when the entry outweighs the bound or the disk is full (counted as rejected).
  bool set(std::string_view key, std::string_view envelope, double ttl_seconds);
  /// Removes `keys`; returns how many live entries were removed.
  std::size_t remove(const std::vector<std::string>& keys);
  /// Removes every key starting with `prefix` ("" = all); returns how many.
  std::size_t remove_prefix(std::string_view prefix);
  /// Up to `limit` live keys starting with `prefix`, in key order.
  std::vector<std::string> keys(std::string_view prefix, std::size_t limit);
  /// Seconds `key` has left (infinity: never expires), nullopt when it has no live entry.
  std::optional<double> ttl(std::string_view key);
  /// Gives `key` a new TTL and moves it to the back of the eviction queue; false if absent.
  bool touch(std::string_view key, double ttl_seconds);
  /// Removes up to `limit` expired entries from the oldest end; returns how many.
  std::size_t purge_expired(std::size_t limit);
  /// Counts a corrupt envelope that the caller's codec refused after a hit.
  void count_corrupt() noexcept;
  /// This process's counters and the store's totals.
  [[nodiscard]] Stats stats();
  /// Never closes the environment (a forked child: the parent owns its locks and readers).
  void abandon() noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return options_.path; }

 private:
  [[nodiscard]] WallMillis now() const;
  std::optional<Hit> read_one(void* txn, std::string_view key, WallMillis now);
  enum class SetOutcome { kDone, kNoRoom, kFull };
  SetOutcome try_set(std::string_view key, std::string_view envelope, WallMillis expiry);
  void make_room(void* txn, std::uint64_t& bytes, std::uint64_t need);
  void evict_for_map_full();

  Options options_;
  std::unique_ptr<Env> env_;
  struct Counters {
    std::atomic<std::uint64_t> hits{0}, misses{0}, sets{0}, deletes{0}, evictions{0}, expired{0},
        corrupt{0}, rejected{0};
  } counters_;
};

/// The weight of an entry with this key and record size (see DiskStore).
std::uint64_t entry_weight(std::size_t key_size, std::size_t record_size) noexcept;

}  // namespace stratacache::disk
