// RAII over the few LMDB calls the disk store makes; every LMDB failure becomes a typed Error.
#pragma once

#include <lmdb.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace stratacache::disk {

/// Throws Error(kInvalidConfig for EACCES/EROFS, else kDisk, naming a damaged file) for rc != 0.
void check(int rc, std::string_view what);

/// The map is full, or the file system is: ENOSPC/EDQUOT, or EIO, which LMDB 0.9 returns for
/// the short write(2) a filling disk gives a commit. A cache counts such a write as rejected.
inline bool is_full(int rc) {
  return rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT || rc == EIO;
}

/// A byte view as LMDB takes it (LMDB never writes through a key or value it is given).
inline MDB_val as_val(std::string_view s) {
  return MDB_val{s.size(),
                 const_cast<char*>(s.data())};  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}
inline std::string_view as_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

/// An open environment with the four databases of the store.
class Env {
 public:
  Env(const std::string& dir, std::size_t map_size, unsigned flags);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  [[nodiscard]] MDB_env* get() const noexcept { return env_; }
  MDB_dbi entries = 0;  ///< key -> record (expiry, sequence, envelope)
  MDB_dbi order = 0;    ///< big-endian sequence -> key: the eviction queue, oldest first
  MDB_dbi meta = 0;     ///< "bytes", "seq": totals kept in the same transactions as the data
  MDB_dbi tombs = 0;    ///< big-endian sequence -> removal: the log of `TombLog`

  /// A read transaction from the pool (reset ones are renewed: cheaper than a new begin).
  MDB_txn* begin_read();
  /// Gives a read transaction back (reset, kept for reuse).
  void end_read(MDB_txn* txn) noexcept;
  /// Leaves the environment open forever (a forked child must not close its parent's).
  void abandon() noexcept { abandoned_ = true; }

 private:
  MDB_env* env_ = nullptr;
  std::mutex pool_mutex_;
  std::vector<MDB_txn*> pool_;
  bool abandoned_ = false;
};

/// A write transaction, aborted unless committed.
class WriteTxn {
 public:
  explicit WriteTxn(Env& env);
  ~WriteTxn();
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;
  void commit();
  /// Commits and returns LMDB's code instead of throwing (a full disk is an expected outcome).
  int try_commit() noexcept;
  [[nodiscard]] MDB_txn* get() const noexcept { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

/// A pooled read transaction for the scope.
class ReadTxn {
 public:
  explicit ReadTxn(Env& env) : env_(env), txn_(env.begin_read()) {}
  ~ReadTxn() { env_.end_read(txn_); }
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  [[nodiscard]] MDB_txn* get() const noexcept { return txn_; }

 private:
  Env& env_;
  MDB_txn* txn_;
};

/// A cursor closed with its scope.
class Cursor {
 public:
  Cursor(MDB_txn* txn, MDB_dbi dbi);
  ~Cursor() { mdb_cursor_close(cursor_); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  [[nodiscard]] MDB_cursor* get() const noexcept { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

/// Reads the uint64 stored under `name` in meta (0 when absent).
std::uint64_t read_meta(MDB_txn* txn, MDB_dbi meta, std::string_view name);
/// Stores `value` under `name` in meta.
void write_meta(MDB_txn* txn, MDB_dbi meta, std::string_view name, std::uint64_t value);

}  // namespace stratacache::disk
