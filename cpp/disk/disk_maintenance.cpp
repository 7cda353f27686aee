// The DiskStore calls that walk many entries: eviction, expiry purge, prefix scans, stats.
// Each works in bounded batches so no transaction holds the host's one writer lock for long.
#include <algorithm>

#include "common/error.hpp"
#include "disk/disk_store.hpp"
#include "disk/lmdb_env.hpp"
#include "disk/record.hpp"
#include "disk/write_state.hpp"

namespace stratacache::disk {
namespace {

constexpr std::size_t kBatch = 1024;
constexpr std::size_t kExpiredPeek = 2;  // expired heads a set removes in passing

// Removes the queue's head entry; returns its weight, or nullopt when the queue is empty.
// `expired_only`: stop (nullopt) at a head that is still live. `removed`: the key of the live
// entry it removed, else empty.
std::optional<std::uint64_t> pop_head(Env& env, MDB_txn* txn, WallMillis now, bool expired_only,
                                      bool& was_expired, std::string& removed) {
  removed.clear();
  Cursor cur(txn, env.order);
  MDB_val ok;
  MDB_val key;
  int rc = mdb_cursor_get(cur.get(), &ok, &key, MDB_FIRST);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check(rc, "disk eviction");
  MDB_val rec;
  rc = mdb_get(txn, env.entries, &key, &rec);
  std::uint64_t weight = 0;
  was_expired = false;
  if (rc == 0) {
    auto h = record::parse(as_view(rec));
    was_expired = !h || record::expired(h->expiry, now);
    if (expired_only && !was_expired) return std::nullopt;
    // Only an entry still owned by this queue slot goes (a stale slot just leaves the queue).
    if (!h || record::order_key(h->seq) == as_view(ok)) {
      weight = entry_weight(key.mv_size, rec.mv_size);
      if (!was_expired) removed.assign(as_view(key));
      check(mdb_del(txn, env.entries, &key, nullptr), "disk eviction");
    }
  } else if (rc != MDB_NOTFOUND) {
    check(rc, "disk eviction");
  }
  check(mdb_cursor_del(cur.get(), 0), "disk eviction");
  return weight;
}

}  // namespace

void DiskStore::make_room(WriteState& state, std::uint64_t need) {
  WallMillis t = now();
  bool was_expired = false;
  std::uint64_t& bytes = state.bytes;
  std::string removed;
  for (std::size_t i = 0; i < kExpiredPeek; ++i) {  // expired heads go first, for free
    auto w = pop_head(*env_, state.txn, t, /*expired_only=*/true, was_expired, removed);
    if (!w) break;
    bytes = bytes > *w ? bytes - *w : 0;
    counters_.expired.fetch_add(1, std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < kMaxEvictions && bytes + need > options_.max_bytes; ++i) {
    auto w = pop_head(*env_, state.txn, t, /*expired_only=*/false, was_expired, removed);
    if (!w) {  // an empty queue holds nothing: whatever the total said was stale
      bytes = 0;
      break;
    }
    bytes = bytes > *w ? bytes - *w : 0;
    // An eviction is logged: a restore of a base and its increments keeps what the store kept.
    if (!removed.empty()) state.removed(removed);
    (was_expired ? counters_.expired : counters_.evictions).fetch_add(1, std::memory_order_relaxed);
  }
}

void DiskStore::evict_for_map_full() {
  // Frees an eighth of the bound from the oldest end, in its own transaction.
  WriteTxn txn(*env_);
  std::uint64_t bytes = read_meta(txn.get(), env_->meta, "bytes");
  std::uint64_t target = bytes - std::min(bytes, options_.max_bytes / 8);
  WallMillis t = now();
  bool was_expired = false;
  std::string removed;
  for (std::size_t i = 0; i < kMaxEvictions && bytes > target; ++i) {
    auto w = pop_head(*env_, txn.get(), t, /*expired_only=*/false, was_expired, removed);
    if (!w) break;
    bytes = bytes > *w ? bytes - *w : 0;
    counters_.evictions.fetch_add(1, std::memory_order_relaxed);
  }
  write_meta(txn.get(), env_->meta, "bytes", bytes);
  // No room to log these evictions: the removal log no longer reaches back past this point.
  std::uint64_t seq = read_meta(txn.get(), env_->meta, "seq");
  write_meta(txn.get(), env_->meta, "tomb_floor",
             std::max(seq, read_meta(txn.get(), env_->meta, "tomb_floor")));
  // A full disk may refuse this commit too; then the caller's retry fails and counts a rejection.
  (void)txn.try_commit();
}

std::size_t DiskStore::purge_expired(std::size_t limit) {
  WriteTxn txn(*env_);
  std::uint64_t bytes = read_meta(txn.get(), env_->meta, "bytes");
  WallMillis t = now();
  std::size_t removed = 0;
  std::vector<std::string> doomed;
  {
    Cursor cur(txn.get(), env_->entries);
    MDB_val k;
    MDB_val v;
    int rc = mdb_cursor_get(cur.get(), &k, &v, MDB_FIRST);
    for (std::size_t seen = 0; rc == 0 && seen < limit; ++seen) {
      auto h = record::parse(as_view(v));
      if (!h || record::expired(h->expiry, t)) doomed.emplace_back(as_view(k));
      rc = mdb_cursor_get(cur.get(), &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) check(rc, "disk purge");
  }
  for (const auto& key : doomed) {
    MDB_val k = as_val(key);
    MDB_val v;
    if (mdb_get(txn.get(), env_->entries, &k, &v) != 0) continue;
    if (auto h = record::parse(as_view(v))) {
      std::string slot = record::order_key(h->seq);  // outlives the MDB_val
      MDB_val ok = as_val(slot);
      mdb_del(txn.get(), env_->order, &ok, nullptr);
    }
    std::uint64_t w = entry_weight(key.size(), v.mv_size);
    bytes = bytes > w ? bytes - w : 0;
    check(mdb_del(txn.get(), env_->entries, &k, nullptr), "disk purge");
    ++removed;
  }
  write_meta(txn.get(), env_->meta, "bytes", bytes);
  txn.commit();
  counters_.expired.fetch_add(removed, std::memory_order_relaxed);
  return removed;
}

std::vector<std::string> DiskStore::keys(std::string_view prefix, std::size_t limit) {
  std::vector<std::string> out;
  ReadTxn txn(*env_);
  Cursor cur(txn.get(), env_->entries);
  WallMillis t = now();
  MDB_val k = as_val(prefix);
  MDB_val v;
  int rc = prefix.empty() ? mdb_cursor_get(cur.get(), &k, &v, MDB_FIRST)
                          : mdb_cursor_get(cur.get(), &k, &v, MDB_SET_RANGE);
  while (rc == 0 && out.size() < limit) {
    std::string_view key = as_view(k);
    if (!key.starts_with(prefix)) break;
    auto h = record::parse(as_view(v));
    if (h && !record::expired(h->expiry, t)) out.emplace_back(key);
    rc = mdb_cursor_get(cur.get(), &k, &v, MDB_NEXT);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) check(rc, "disk keys");
  return out;
}

std::size_t DiskStore::remove_prefix(std::string_view prefix) {
  // Batches of kBatch keys, each its own transaction: other processes' writes interleave.
  std::size_t total = 0;
  while (true) {
    std::vector<std::string> batch;
    {
      ReadTxn txn(*env_);
      Cursor cur(txn.get(), env_->entries);
      MDB_val k = as_val(prefix);
      MDB_val v;
      int rc = prefix.empty() ? mdb_cursor_get(cur.get(), &k, &v, MDB_FIRST)
                              : mdb_cursor_get(cur.get(), &k, &v, MDB_SET_RANGE);
      while (rc == 0 && batch.size() < kBatch && as_view(k).starts_with(prefix)) {
        batch.emplace_back(as_view(k));
        rc = mdb_cursor_get(cur.get(), &k, &v, MDB_NEXT);
      }
    }
    if (!batch.empty()) total += remove_keys(batch, /*log_keys=*/false);
    if (batch.size() < kBatch) break;
  }
  // One record for the prefix, after its last batch: a restore replaying it removes the keys
  // written under the prefix before it, whichever batch they met.
  WriteTxn txn(*env_);
  WriteState w(*env_, txn.get(), tomb_bound());
  w.tombs.add(TombLog::kPrefix, prefix, ++w.seq);
  w.save();
  txn.commit();
  return total;
}

Stats DiskStore::stats() {
  Stats s;
  s.hits = counters_.hits.load(std::memory_order_relaxed);
  s.misses = counters_.misses.load(std::memory_order_relaxed);
  s.sets = counters_.sets.load(std::memory_order_relaxed);
  s.deletes = counters_.deletes.load(std::memory_order_relaxed);
  s.evictions = counters_.evictions.load(std::memory_order_relaxed);
  s.expired = counters_.expired.load(std::memory_order_relaxed);
  s.corrupt = counters_.corrupt.load(std::memory_order_relaxed);
  s.rejected = counters_.rejected.load(std::memory_order_relaxed);
  s.max_bytes = options_.max_bytes;
  ReadTxn txn(*env_);
  s.bytes = read_meta(txn.get(), env_->meta, "bytes");
  MDB_stat st;
  check(mdb_stat(txn.get(), env_->entries, &st), "disk stats");
  s.entries = st.ms_entries;
  return s;
}

}  // namespace stratacache::disk
