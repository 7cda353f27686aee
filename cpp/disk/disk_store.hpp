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
#include <utility>
#include <vector>

namespace stratacache::disk {

class Env;
struct WriteState;

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

/// One entry as a backup reads it: its key, envelope, absolute expiry and write sequence. From
/// `changes_since`, also a removal: kind 'k' (key removed) or 'p' (every key under the prefix
/// `key`), with no envelope.
struct Entry {
  char kind = 'w';  ///< 'w' a write (`scan` returns only these), 'k' / 'p' a logged removal
  std::string key;
  std::string envelope;
  WallMillis expiry = 0;  ///< unix milliseconds; 0: never expires
  std::uint64_t seq = 0;  ///< the store's write sequence of its last set or touch
};

/// A batch of a scan and where the next one starts (`after` / `after_seq` of the next call).
struct ScanBatch {
  std::vector<Entry> entries;
  std::string next_key;        ///< `scan`: the last key examined
  std::uint64_t next_seq = 0;  ///< `written_since`: the last sequence examined
  bool done = false;           ///< nothing follows this batch
  /// `changes_since`: removals up to this sequence may be missing from the log (trimmed).
  std::uint64_t log_floor = 0;
};

/// An entry a restore stores, with its absolute expiry (0: never expires).
struct Put {
  std::string key;
  std::string envelope;
  WallMillis expiry = 0;
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
  /// As `get`, without the copy: `sink` is given the envelope as a view into the mapped file,
  /// valid only during the call (the read snapshot is held meanwhile). The seconds left, or
  /// nullopt (and no call) when there is no live entry.
  std::optional<double> get_view(std::string_view key,
                                 const std::function<void(std::string_view)>& sink);
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
  /// Live entries whose keys start with `prefix` and come after `after` ("" = from the
  /// start), in key order, from one snapshot: at most `limit` entries examined and about
  /// `max_bytes` of envelopes (at least one entry). Defined in disk_backup.cpp.
  ScanBatch scan(std::string_view prefix, std::string_view after, std::size_t limit,
                 std::size_t max_bytes);
  /// What changed after sequence `after_seq`, in sequence order, from one snapshot: the
  /// entries whose last write took a later sequence (expired ones included: a restore deletes
  /// what they replaced) and the logged removals (see TombLog), bounded as `scan`. The batch's
  /// `log_floor` tells whether the removal log still reaches back to `after_seq`.
  ScanBatch changes_since(std::uint64_t after_seq, std::size_t limit, std::size_t max_bytes);
  /// The sequence of the newest write (0: none yet); later writes take higher ones.
  std::uint64_t sequence();
  /// Stores `puts` with their absolute expiries in one transaction, keeping the bound as
  /// `set` does; expired ones and ones outweighing the bound are skipped. How many stored.
  std::size_t put_many(const std::vector<Put>& puts);
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
  /// The live envelope (a view valid while `txn` is) and seconds left, counted as read_one.
  std::optional<std::pair<std::string_view, double>> find(void* txn, std::string_view key,
                                                          WallMillis now);
  enum class SetOutcome { kDone, kNoRoom, kFull };
  SetOutcome try_set(std::string_view key, std::string_view envelope, WallMillis expiry);
  /// Writes one entry in `w`'s transaction under the next sequence (try_set, put_many).
  SetOutcome put_in(WriteState& w, std::string_view key, std::string_view envelope,
                    WallMillis expiry);
  std::optional<std::size_t> try_put_many(const std::vector<Put>& puts, WallMillis now);
  void make_room(WriteState& w, std::uint64_t need);
  void evict_for_map_full();
  /// `remove`, logging each removed key unless `log_keys` is false (a prefix logs itself).
  std::size_t remove_keys(const std::vector<std::string>& keys, bool log_keys);
  [[nodiscard]] std::uint64_t tomb_bound() const noexcept;

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
