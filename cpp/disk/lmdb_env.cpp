#include "disk/lmdb_env.hpp"

#include <sys/stat.h>

#include <cstring>

#include "common/error.hpp"

namespace stratacache::disk {

void check(int rc, std::string_view what) {
  if (rc == 0) return;
  std::string msg = std::string(what) + ": " + mdb_strerror(rc);
  if (rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_VERSION_MISMATCH ||
      rc == MDB_PAGE_NOTFOUND) {
    throw Error(ErrorCode::kDisk, msg + " (the store file is damaged or not an LMDB file)");
  }
  if (rc == EACCES || rc == EROFS) throw Error(ErrorCode::kInvalidConfig, msg);
  throw Error(ErrorCode::kDisk, msg);
}

namespace {

// A data file shorter than the pages its meta page claims would be mapped past its end, and the
// first read of a missing page would raise SIGBUS: refuse it at open instead.
void check_not_truncated(MDB_env* env, const std::string& dir) {
  MDB_envinfo info;
  MDB_stat stat;
  check(mdb_env_info(env, &info), "mdb_env_info");
  check(mdb_env_stat(env, &stat), "mdb_env_stat");
  struct stat st {};
  if (::stat((dir + "/data.mdb").c_str(), &st) != 0) return;
  auto needed = static_cast<std::uint64_t>(info.me_last_pgno + 1) * stat.ms_psize;
  if (static_cast<std::uint64_t>(st.st_size) < needed) {
    throw Error(ErrorCode::kDisk, "disk store " + dir +
                                      "/data.mdb is truncated: " + std::to_string(st.st_size) +
                                      " bytes, its pages need " + std::to_string(needed));
  }
}

}  // namespace

Env::Env(const std::string& dir, std::size_t map_size, unsigned flags) {
  check(mdb_env_create(&env_), "mdb_env_create");
  try {
    check(mdb_env_set_mapsize(env_, map_size), "mdb_env_set_mapsize");
    check(mdb_env_set_maxdbs(env_, 5), "mdb_env_set_maxdbs");
    check(mdb_env_set_maxreaders(env_, 512), "mdb_env_set_maxreaders");
    // MDB_NOTLS: read transactions are pooled and may move between threads (GIL released).
    check(mdb_env_open(env_, dir.c_str(), flags | MDB_NOTLS, 0644), "opening disk store " + dir);
    check_not_truncated(env_, dir);
    int dead = 0;  // reader slots of killed processes would pin old pages forever
    check(mdb_reader_check(env_, &dead), "mdb_reader_check");
    WriteTxn txn(*this);
    check(mdb_dbi_open(txn.get(), "entries", MDB_CREATE, &entries), "opening entries");
    check(mdb_dbi_open(txn.get(), "order", MDB_CREATE, &order), "opening order");
    check(mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &meta), "opening meta");
    check(mdb_dbi_open(txn.get(), "tombs", MDB_CREATE, &tombs), "opening tombs");
    MDB_val floor_key = as_val("tomb_floor");
    MDB_val found;
    int rc = mdb_get(txn.get(), meta, &floor_key, &found);
    if (rc == MDB_NOTFOUND) {  // new, or made before the removal log: it starts here
      write_meta(txn.get(), meta, "tomb_floor", read_meta(txn.get(), meta, "seq"));
    } else {
      check(rc, "reading meta");
    }
    txn.commit();
  } catch (...) {
    mdb_env_close(env_);
    throw;
  }
}

Env::~Env() {
  if (abandoned_) return;  // a forked child: the parent's reader slots and locks are not ours
  for (MDB_txn* txn : pool_) mdb_txn_abort(txn);
  mdb_env_close(env_);
}

MDB_txn* Env::begin_read() {
  MDB_txn* txn = nullptr;
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      txn = pool_.back();
      pool_.pop_back();
    }
  }
  if (txn != nullptr) {
    int rc = mdb_txn_renew(txn);
    if (rc == 0) return txn;
    mdb_txn_abort(txn);
  }
  check(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin (read)");
  return txn;
}

void Env::end_read(MDB_txn* txn) noexcept {
  mdb_txn_reset(txn);
  std::lock_guard lock(pool_mutex_);
  if (pool_.size() < 16) {
    pool_.push_back(txn);
  } else {
    mdb_txn_abort(txn);
  }
}

WriteTxn::WriteTxn(Env& env) {
  check(mdb_txn_begin(env.get(), nullptr, 0, &txn_), "mdb_txn_begin");
}

WriteTxn::~WriteTxn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

void WriteTxn::commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr;  // mdb_txn_commit frees it even when it fails
  check(mdb_txn_commit(txn), "mdb_txn_commit");
}

int WriteTxn::try_commit() noexcept {
  MDB_txn* txn = txn_;
  txn_ = nullptr;
  return mdb_txn_commit(txn);
}

Cursor::Cursor(MDB_txn* txn, MDB_dbi dbi) { check(mdb_cursor_open(txn, dbi, &cursor_), "cursor"); }

std::uint64_t read_meta(MDB_txn* txn, MDB_dbi meta, std::string_view name) {
  MDB_val k = as_val(name);
  MDB_val v;
  int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND) return 0;
  check(rc, "reading meta");
  if (v.mv_size != sizeof(std::uint64_t)) return 0;
  std::uint64_t out = 0;
  std::memcpy(&out, v.mv_data, sizeof out);
  return out;
}

void write_meta(MDB_txn* txn, MDB_dbi meta, std::string_view name, std::uint64_t value) {
  MDB_val k = as_val(name);
  MDB_val v{sizeof value, &value};
  check(mdb_put(txn, meta, &k, &v, 0), "writing meta");
}

}  // namespace stratacache::disk
