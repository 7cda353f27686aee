// The DiskStore calls backups and restores make: a key-ordered scan and a scan by write
// sequence, each one bounded batch per call from one read snapshot (a cursor the caller passes
// back, never a copy of the store), and a batched put with absolute expiries.
#include <limits>
#include <optional>

#include "common/error.hpp"
#include "disk/disk_store.hpp"
#include "disk/lmdb_env.hpp"
#include "disk/record.hpp"
#include "disk/tomb_log.hpp"
#include "disk/write_state.hpp"

namespace stratacache::disk {
namespace {

constexpr std::size_t kMaxKey = 511;

// The big-endian sequence of an order key (the inverse of record::order_key).
std::uint64_t seq_of(std::string_view order_key) {
  std::uint64_t seq = 0;
  for (char c : order_key) seq = (seq << 8) | static_cast<unsigned char>(c);
  return seq;
}

// Positions `cur` at the first key >= `from` (the first key when `from` is empty).
int seek(MDB_cursor* cur, std::string_view from, MDB_val& k, MDB_val& v) {
  if (from.empty()) return mdb_cursor_get(cur, &k, &v, MDB_FIRST);
  k = as_val(from);
  return mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
}

}  // namespace

ScanBatch DiskStore::scan(std::string_view prefix, std::string_view after, std::size_t limit,
                          std::size_t max_bytes) {
  ScanBatch out;
  ReadTxn txn(*env_);
  Cursor cur(txn.get(), env_->entries);
  WallMillis t = now();
  MDB_val k;
  MDB_val v;
  bool resume = !after.empty() && after >= prefix;
  int rc = seek(cur.get(), resume ? after : prefix, k, v);
  if (rc == 0 && resume && as_view(k) == after) rc = mdb_cursor_get(cur.get(), &k, &v, MDB_NEXT);
  std::size_t examined = 0;
  std::size_t size = 0;
  while (rc == 0 && examined < limit && (out.entries.empty() || size < max_bytes)) {
    std::string_view key = as_view(k);
    if (!key.starts_with(prefix)) break;
    ++examined;
    out.next_key.assign(key);
    auto h = record::parse(as_view(v));
    if (h && !record::expired(h->expiry, t)) {
      std::string_view envelope = as_view(v).substr(record::kHeader);
      out.entries.push_back(Entry{'w', std::string(key), std::string(envelope), h->expiry, h->seq});
      size += envelope.size();
    }
    rc = mdb_cursor_get(cur.get(), &k, &v, MDB_NEXT);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) check(rc, "disk scan");
  out.done = rc == MDB_NOTFOUND || (rc == 0 && !as_view(k).starts_with(prefix));
  return out;
}

namespace {

// One sequence-ordered cursor of `changes_since`: its last return code and place (sequence
// key, and the entry key or removal record).
struct Walk {
  MDB_cursor* cur;
  int rc;
  MDB_val ok{};
  MDB_val val{};
};

}  // namespace

ScanBatch DiskStore::changes_since(std::uint64_t after_seq, std::size_t limit,
                                   std::size_t max_bytes) {
  ScanBatch out;
  out.next_seq = after_seq;
  ReadTxn txn(*env_);
  out.log_floor = read_meta(txn.get(), env_->meta, "tomb_floor");
  if (after_seq == std::numeric_limits<std::uint64_t>::max()) {
    out.done = true;
    return out;
  }
  // Two sequence-ordered walks merged: the eviction queue (writes) and the removal log.
  Cursor writes_cur(txn.get(), env_->order);
  Cursor tombs_cur(txn.get(), env_->tombs);
  std::string from = record::order_key(after_seq + 1);
  Walk writes{writes_cur.get(), 0};
  Walk tombs{tombs_cur.get(), 0};
  writes.rc = seek(writes.cur, from, writes.ok, writes.val);
  tombs.rc = seek(tombs.cur, from, tombs.ok, tombs.val);
  for (int rc : {writes.rc, tombs.rc}) {
    if (rc != 0 && rc != MDB_NOTFOUND) check(rc, "disk scan (changes)");
  }
  std::size_t examined = 0;
  std::size_t size = 0;
  while ((writes.rc == 0 || tombs.rc == 0) && examined < limit &&
         (out.entries.empty() || size < max_bytes)) {
    ++examined;
    bool take_write = tombs.rc != 0 || (writes.rc == 0 && as_view(writes.ok) < as_view(tombs.ok));
    Walk& walk = take_write ? writes : tombs;
    out.next_seq = seq_of(as_view(walk.ok));
    if (take_write) {
      MDB_val rec;
      int got = mdb_get(txn.get(), env_->entries, &walk.val, &rec);
      if (got != 0 && got != MDB_NOTFOUND) check(got, "disk scan (queue)");
      auto h = got == 0 ? record::parse(as_view(rec)) : std::nullopt;
      if (h && h->seq == out.next_seq) {  // a slot still owned by its entry
        std::string_view envelope = as_view(rec).substr(record::kHeader);
        out.entries.push_back(
            Entry{'w', std::string(as_view(walk.val)), std::string(envelope), h->expiry, h->seq});
        size += envelope.size();
      }
    } else if (walk.val.mv_size >= 1) {
      std::string_view tomb = as_view(walk.val);
      out.entries.push_back(Entry{tomb[0], std::string(tomb.substr(1)), {}, 0, out.next_seq});
      size += tomb.size();
    }
    walk.rc = mdb_cursor_get(walk.cur, &walk.ok, &walk.val, MDB_NEXT);
    if (walk.rc != 0 && walk.rc != MDB_NOTFOUND) check(walk.rc, "disk scan (changes)");
  }
  out.done = writes.rc == MDB_NOTFOUND && tombs.rc == MDB_NOTFOUND;
  return out;
}

std::uint64_t DiskStore::sequence() {
  ReadTxn txn(*env_);
  return read_meta(txn.get(), env_->meta, "seq");
}

std::size_t DiskStore::put_many(const std::vector<Put>& puts) {
  for (const auto& p : puts) {
    if (p.key.empty() || p.key.size() > kMaxKey) {
      throw Error(ErrorCode::kInvalidConfig, "disk keys must be 1..511 bytes");
    }
    if (p.expiry < 0) throw Error(ErrorCode::kInvalidTtl, "disk expiry must be >= 0 (0: never)");
  }
  if (puts.empty()) return 0;
  WallMillis t = now();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto stored = try_put_many(puts, t)) return *stored;
    evict_for_map_full();  // the map or the disk is full: free pages and try once more
  }
  // Still full: a transaction per entry, so whatever fits is kept.
  std::size_t stored = 0;
  for (const auto& p : puts) {
    if (record::expired(p.expiry, t)) continue;
    if (try_set(p.key, p.envelope, p.expiry) == SetOutcome::kDone) {
      ++stored;
      counters_.sets.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return stored;
}

std::optional<std::size_t> DiskStore::try_put_many(const std::vector<Put>& puts, WallMillis t) {
  WriteTxn txn(*env_);
  WriteState w(*env_, txn.get(), tomb_bound());
  std::size_t stored = 0;
  std::size_t rejected = 0;
  for (const auto& p : puts) {
    if (record::expired(p.expiry, t)) continue;  // expired meanwhile: not restored
    if (entry_weight(p.key.size(), p.envelope.size() + record::kHeader) > options_.max_bytes / 2) {
      ++rejected;
      continue;
    }
    SetOutcome outcome = put_in(w, p.key, p.envelope, p.expiry);
    if (outcome == SetOutcome::kFull) return std::nullopt;
    if (outcome == SetOutcome::kNoRoom) {
      ++rejected;
      continue;
    }
    ++stored;
  }
  w.save();
  int rc = txn.try_commit();
  if (is_full(rc)) return std::nullopt;
  check(rc, "disk restore (commit)");
  counters_.sets.fetch_add(stored, std::memory_order_relaxed);
  counters_.rejected.fetch_add(rejected, std::memory_order_relaxed);
  return stored;
}

}  // namespace stratacache::disk
