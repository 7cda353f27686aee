#include "disk/disk_store.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "disk/lmdb_env.hpp"
#include "disk/record.hpp"
#include "disk/tomb_log.hpp"
#include "disk/write_state.hpp"

namespace stratacache::disk {
namespace {

constexpr std::uint64_t kEntryOverhead = 64;  // tree node, order record, their headers
constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMapSlack = std::uint64_t{64} << 20;
// LMDB moves a value to overflow pages above about half a page's usable space.
constexpr std::uint64_t kInlineLimit = 2000;

unsigned flags_of(Durability d) {
  // NORDAHEAD: cache reads are random; readahead would only fill the page cache with neighbours.
  switch (d) {
    case Durability::kNone:
      return MDB_NOSYNC | MDB_NORDAHEAD;
    case Durability::kFlush:
      return MDB_NOMETASYNC | MDB_NORDAHEAD;
    case Durability::kSync:
      return MDB_NORDAHEAD;
  }
  return 0;
}

std::size_t map_size_for(std::uint64_t max_bytes) {
  std::uint64_t size = max_bytes * 2 + kMapSlack;
  return static_cast<std::size_t>((size + kPage - 1) / kPage * kPage);
}

MDB_txn* txn_of(void* p) { return static_cast<MDB_txn*>(p); }

}  // namespace

std::uint64_t entry_weight(std::size_t key_size, std::size_t record_size) noexcept {
  std::uint64_t rec = record_size;
  if (rec > kInlineLimit) rec = (rec + kPage - 1) / kPage * kPage;
  return key_size + rec + kEntryOverhead;
}

DiskStore::DiskStore(Options options) : options_(std::move(options)) {
  if (options_.max_bytes < (std::uint64_t{1} << 16)) {
    throw Error(ErrorCode::kInvalidConfig, "max_bytes must be at least 65536 for a disk store");
  }
  if (options_.max_bytes > (std::uint64_t{1} << 44)) {
    throw Error(ErrorCode::kInvalidConfig, "max_bytes must be at most 16 TiB for a disk store");
  }
  env_ = std::make_unique<Env>(options_.path, map_size_for(options_.max_bytes),
                               flags_of(options_.durability));
}

DiskStore::~DiskStore() = default;

void DiskStore::abandon() noexcept { env_->abandon(); }

std::uint64_t DiskStore::tomb_bound() const noexcept {
  return TombLog::bound_for(options_.max_bytes);
}

WallMillis DiskStore::now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void DiskStore::count_corrupt() noexcept {
  // Relaxed is enough: stats are read approximately and never drive control flow.
  counters_.corrupt.fetch_add(1, std::memory_order_relaxed);
}

std::optional<std::pair<std::string_view, double>> DiskStore::find(void* txn, std::string_view key,
                                                                   WallMillis now_ms) {
  MDB_val k = as_val(key);
  MDB_val v;
  int rc =
      key.empty() || key.size() > 511 ? MDB_NOTFOUND : mdb_get(txn_of(txn), env_->entries, &k, &v);
  if (rc == MDB_NOTFOUND) {
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  check(rc, "disk get");
  auto header = record::parse(as_view(v));
  if (!header) {
    count_corrupt();
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  if (record::expired(header->expiry, now_ms)) {
    counters_.expired.fetch_add(1, std::memory_order_relaxed);
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  counters_.hits.fetch_add(1, std::memory_order_relaxed);
  return std::pair{as_view(v).substr(record::kHeader), record::ttl_left(header->expiry, now_ms)};
}

std::optional<Hit> DiskStore::read_one(void* txn, std::string_view key, WallMillis now_ms) {
  auto found = find(txn, key, now_ms);
  if (!found) return std::nullopt;
  return Hit{std::string(found->first), found->second};
}

std::optional<double> DiskStore::get_view(std::string_view key,
                                          const std::function<void(std::string_view)>& sink) {
  ReadTxn txn(*env_);
  auto found = find(txn.get(), key, now());
  if (!found) return std::nullopt;
  sink(found->first);
  return found->second;
}

std::optional<Hit> DiskStore::get(std::string_view key) {
  ReadTxn txn(*env_);
  return read_one(txn.get(), key, now());
}

std::vector<std::optional<Hit>> DiskStore::get_many(const std::vector<std::string>& keys) {
  std::vector<std::optional<Hit>> out;
  out.reserve(keys.size());
  ReadTxn txn(*env_);
  WallMillis t = now();
  for (const auto& key : keys) out.push_back(read_one(txn.get(), key, t));
  return out;
}

bool DiskStore::set(std::string_view key, std::string_view envelope, double ttl_seconds) {
  if (std::isnan(ttl_seconds)) throw Error(ErrorCode::kInvalidTtl, "disk ttl is NaN");
  if (key.empty() || key.size() > 511) {
    throw Error(ErrorCode::kInvalidConfig, "disk keys must be 1..511 bytes");
  }
  if (ttl_seconds <= 0) {
    remove({std::string(key)});
    return true;
  }
  WallMillis expiry = record::expiry_of(ttl_seconds, now());
  if (entry_weight(key.size(), envelope.size() + record::kHeader) > options_.max_bytes / 2) {
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    SetOutcome outcome = try_set(key, envelope, expiry);
    if (outcome == SetOutcome::kDone) {
      counters_.sets.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (outcome == SetOutcome::kNoRoom || attempt == 1) break;
    evict_for_map_full();  // the map or the disk is full: free pages and try once more
  }
  counters_.rejected.fetch_add(1, std::memory_order_relaxed);
  return false;
}

DiskStore::SetOutcome DiskStore::try_set(std::string_view key, std::string_view envelope,
                                         WallMillis expiry) {
  WriteTxn txn(*env_);
  WriteState w(*env_, txn.get(), tomb_bound());
  SetOutcome outcome = put_in(w, key, envelope, expiry);
  if (outcome != SetOutcome::kDone) return outcome;
  w.save();
  int rc = txn.try_commit();
  if (is_full(rc)) return SetOutcome::kFull;
  check(rc, "disk set (commit)");
  return SetOutcome::kDone;
}

DiskStore::SetOutcome DiskStore::put_in(WriteState& w, std::string_view key,
                                        std::string_view envelope, WallMillis expiry) {
  MDB_txn* txn = w.txn;
  std::uint64_t& bytes = w.bytes;
  MDB_val k = as_val(key);
  MDB_val old;
  int rc = mdb_get(txn, env_->entries, &k, &old);
  bool replacing = rc == 0;
  if (replacing) {  // the old entry leaves the queue and the total
    if (auto h = record::parse(as_view(old))) {
      std::string slot = record::order_key(h->seq);  // outlives the MDB_val
      MDB_val ok = as_val(slot);
      mdb_del(txn, env_->order, &ok, nullptr);
    }
    std::uint64_t old_weight = entry_weight(key.size(), old.mv_size);
    bytes = bytes > old_weight ? bytes - old_weight : 0;
  } else if (rc != MDB_NOTFOUND) {
    check(rc, "disk set");
  }
  std::uint64_t weight = entry_weight(key.size(), envelope.size() + record::kHeader);
  make_room(w, weight);  // evictions take their sequences before this write's
  if (bytes + weight > options_.max_bytes) {
    // In a batch the transaction goes on: the old entry, out of the queue, goes too.
    if (replacing) {
      check(mdb_del(txn, env_->entries, &k, nullptr), "disk set");
      w.removed(key);
    }
    return SetOutcome::kNoRoom;
  }
  std::uint64_t seq = ++w.seq;
  MDB_val v{envelope.size() + record::kHeader, nullptr};
  // MDB_RESERVE: LMDB hands out the value's space and we write the record in place, one copy.
  rc = mdb_put(txn, env_->entries, &k, &v, MDB_RESERVE);
  if (is_full(rc)) return SetOutcome::kFull;
  check(rc, "disk set");
  auto* out = static_cast<char*>(v.mv_data);
  record::write_header(out, expiry, seq);
  if (!envelope.empty()) std::memcpy(out + record::kHeader, envelope.data(), envelope.size());
  std::string ok_bytes = record::order_key(seq);
  MDB_val ok = as_val(ok_bytes);
  rc = mdb_put(txn, env_->order, &ok, &k, 0);
  if (is_full(rc)) return SetOutcome::kFull;
  check(rc, "disk set (queue)");
  bytes += weight;
  return SetOutcome::kDone;
}

std::size_t DiskStore::remove(const std::vector<std::string>& keys) {
  return remove_keys(keys, /*log_keys=*/true);
}

std::size_t DiskStore::remove_keys(const std::vector<std::string>& keys, bool log_keys) {
  if (keys.empty()) return 0;
  WriteTxn txn(*env_);
  WriteState w(*env_, txn.get(), tomb_bound());
  std::uint64_t& bytes = w.bytes;
  WallMillis t = now();
  std::size_t removed = 0;
  for (const auto& key : keys) {
    if (key.empty() || key.size() > 511) continue;
    MDB_val k = as_val(key);
    MDB_val v;
    int rc = mdb_get(txn.get(), env_->entries, &k, &v);
    if (rc == MDB_NOTFOUND) continue;
    check(rc, "disk delete");
    auto h = record::parse(as_view(v));
    if (h) {
      if (!record::expired(h->expiry, t)) ++removed;
      std::string slot = record::order_key(h->seq);  // outlives the MDB_val
      MDB_val ok = as_val(slot);
      mdb_del(txn.get(), env_->order, &ok, nullptr);
    }
    std::uint64_t weight = entry_weight(key.size(), v.mv_size);
    bytes = bytes > weight ? bytes - weight : 0;
    check(mdb_del(txn.get(), env_->entries, &k, nullptr), "disk delete");
    if (log_keys) w.removed(key);
  }
  w.save();
  txn.commit();
  counters_.deletes.fetch_add(removed, std::memory_order_relaxed);
  return removed;
}

std::optional<double> DiskStore::ttl(std::string_view key) {
  ReadTxn txn(*env_);
  MDB_val k = as_val(key);
  MDB_val v;
  if (key.empty() || key.size() > 511) return std::nullopt;
  int rc = mdb_get(txn.get(), env_->entries, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check(rc, "disk ttl");
  auto h = record::parse(as_view(v));
  WallMillis t = now();
  if (!h || record::expired(h->expiry, t)) return std::nullopt;
  return record::ttl_left(h->expiry, t);
}

bool DiskStore::touch(std::string_view key, double ttl_seconds) {
  std::optional<Hit> hit;
  {
    ReadTxn txn(*env_);
    MDB_val k = as_val(key);
    MDB_val v;
    if (key.empty() || key.size() > 511) return false;
    int rc = mdb_get(txn.get(), env_->entries, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    check(rc, "disk touch");
    auto h = record::parse(as_view(v));
    if (!h || record::expired(h->expiry, now())) return false;
    hit = Hit{std::string(as_view(v).substr(record::kHeader)), 0};
  }
  // Rewritten whole: a new sequence moves it to the back of the queue. A concurrent set between
  // the read and this write loses to it, as any two racing sets do.
  return set(key, hit->envelope, ttl_seconds);
}

}  // namespace stratacache::disk
