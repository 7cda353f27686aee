// The store's bounded log of removals, so an incremental backup can carry deletions.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <string_view>

namespace stratacache::disk {

class Env;

/// Removals recorded in `Env::tombs` under the write sequence they took: big-endian sequence ->
/// [kind byte][key or prefix]. Kinds: 'k' a key removed (a delete, an eviction, a refused
/// overwrite), 'p' every key under a prefix removed. Expiries are not logged (a restore skips
/// what expired by its absolute expiry anyway).
///
/// The log is bounded in bytes (`bound_for`): the oldest records go first, and meta "tomb_floor"
/// rises to the sequence of the newest one trimmed away. The log holds every removal after the
/// floor; an incremental backup from a position below it would miss some and is refused. A store
/// first opened by a version without the log starts with the floor at its current sequence.
///
/// One per write transaction: meta is read at the first record and written by `finish`.
class TombLog {
 public:
  static constexpr char kKey = 'k';
  static constexpr char kPrefix = 'p';

  TombLog(Env& env, MDB_txn* txn, std::uint64_t bound) noexcept
      : env_(env), txn_(txn), bound_(bound) {}
  /// Records a removal under sequence `seq` (higher than every earlier one).
  void add(char kind, std::string_view name, std::uint64_t seq);
  /// Removals up to `seq` went unrecorded (no room to log them): the floor rises to it.
  void lose_through(std::uint64_t seq);
  /// Trims the log to its bound and stores the totals; call before committing.
  void finish();

  /// The byte bound of the log of a store bounded at `max_bytes`: a sixteenth, 64 KiB..64 MiB.
  static std::uint64_t bound_for(std::uint64_t max_bytes) noexcept;
  /// The weight of one record naming `name`.
  static std::uint64_t weight(std::size_t name_size) noexcept { return name_size + 32; }

 private:
  void load();

  Env& env_;
  MDB_txn* txn_;
  std::uint64_t bound_;
  std::uint64_t bytes_ = 0;
  std::uint64_t floor_ = 0;
  bool loaded_ = false;
  bool dirty_ = false;
};

}  // namespace stratacache::disk
