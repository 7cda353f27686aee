// What one write transaction of the store carries between its steps: the byte total, the last
// write sequence taken, and the removals it logs. Read at the start, stored by `save`.
#pragma once

#include <lmdb.h>

#include <cstdint>

#include "disk/lmdb_env.hpp"
#include "disk/tomb_log.hpp"

namespace stratacache::disk {

struct WriteState {
  WriteState(Env& env, MDB_txn* t, std::uint64_t tomb_bound)
      : txn(t),
        bytes(read_meta(t, env.meta, "bytes")),
        seq(read_meta(t, env.meta, "seq")),
        tombs(env, t, tomb_bound),
        meta_(env.meta) {}

  /// Stores the totals and trims the removal log (before the commit).
  void save() {
    write_meta(txn, meta_, "bytes", bytes);
    write_meta(txn, meta_, "seq", seq);
    tombs.finish();
  }
  /// Logs the removal of `key` under the next sequence.
  void removed(std::string_view key) { tombs.add(TombLog::kKey, key, ++seq); }

  MDB_txn* txn;
  std::uint64_t bytes;  ///< the entries' weight
  std::uint64_t seq;    ///< the last sequence taken (a write or a logged removal takes the next)
  TombLog tombs;

 private:
  MDB_dbi meta_;
};

}  // namespace stratacache::disk
