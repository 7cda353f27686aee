#include "disk/tomb_log.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "disk/lmdb_env.hpp"
#include "disk/record.hpp"

namespace stratacache::disk {

std::uint64_t TombLog::bound_for(std::uint64_t max_bytes) noexcept {
  return std::clamp<std::uint64_t>(max_bytes / 16, std::uint64_t{64} << 10,
                                   std::uint64_t{64} << 20);
}

void TombLog::load() {
  if (loaded_) return;
  bytes_ = read_meta(txn_, env_.meta, "tomb_bytes");
  floor_ = read_meta(txn_, env_.meta, "tomb_floor");
  loaded_ = true;
}

void TombLog::add(char kind, std::string_view name, std::uint64_t seq) {
  load();
  std::string key = record::order_key(seq);
  MDB_val k = as_val(key);
  MDB_val v{name.size() + 1, nullptr};
  check(mdb_put(txn_, env_.tombs, &k, &v, MDB_RESERVE), "disk removal log");
  auto* out = static_cast<char*>(v.mv_data);
  out[0] = kind;
  if (!name.empty()) std::memcpy(out + 1, name.data(), name.size());
  bytes_ += weight(name.size());
  dirty_ = true;
}

void TombLog::lose_through(std::uint64_t seq) {
  load();
  floor_ = std::max(floor_, seq);
  dirty_ = true;
}

void TombLog::finish() {
  if (!dirty_) return;
  if (bytes_ > bound_) {
    Cursor cur(txn_, env_.tombs);
    MDB_val k;
    MDB_val v;
    int rc = mdb_cursor_get(cur.get(), &k, &v, MDB_FIRST);
    while (rc == 0 && bytes_ > bound_ * 3 / 4) {  // a quarter of slack: trims come in runs
      std::uint64_t seq = 0;
      for (char c : as_view(k)) seq = (seq << 8) | static_cast<unsigned char>(c);
      floor_ = std::max(floor_, seq);
      std::uint64_t w = weight(v.mv_size > 0 ? v.mv_size - 1 : 0);
      bytes_ = bytes_ > w ? bytes_ - w : 0;
      check(mdb_cursor_del(cur.get(), 0), "disk removal log (trim)");
      rc = mdb_cursor_get(cur.get(), &k, &v, MDB_FIRST);
    }
    if (rc == MDB_NOTFOUND)
      bytes_ = 0;
    else if (rc != 0)
      check(rc, "disk removal log (trim)");
  }
  write_meta(txn_, env_.meta, "tomb_bytes", bytes_);
  write_meta(txn_, env_.meta, "tomb_floor", floor_);
  dirty_ = false;
}

}  // namespace stratacache::disk
