// Store-choice micro-benchmark for the disk tier (issue 14): the same get/set workload over
// LMDB, RocksDB and SQLite, 1 KB values, no fsync per write (durability="none"), one process.
// Build: g++ -O2 -std=c++20 disk_store_choice.cpp -llmdb -lrocksdb -lsqlite3
// Run:   ./a.out DIR N   -> one JSON object per store on stdout (ns per op, medians of 5).
#include <lmdb.h>
#include <rocksdb/db.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;
double ns_since(Clock::time_point t0, int n) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / n;
}
std::string key(int i) { return "ns\x1fkey:" + std::to_string(i); }

struct Row {
  double set_ns, get_ns, miss_ns;
};

Row bench_lmdb(const std::string& dir, int n, const std::string& v) {
  MDB_env* env;
  MDB_dbi dbi;
  MDB_txn* txn;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, size_t{1} << 32);
  mdb_env_open(env, dir.c_str(), MDB_NOSYNC | MDB_NOMETASYNC, 0644);
  mdb_txn_begin(env, nullptr, 0, &txn);
  mdb_dbi_open(txn, nullptr, 0, &dbi);
  mdb_txn_commit(txn);
  Row r{};
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {  // one transaction per set, as the tier does
    std::string k = key(i);
    MDB_val mk{k.size(), k.data()}, mv{v.size(), const_cast<char*>(v.data())};
    mdb_txn_begin(env, nullptr, 0, &txn);
    mdb_put(txn, dbi, &mk, &mv, 0);
    mdb_txn_commit(txn);
  }
  r.set_ns = ns_since(t0, n);
  t0 = Clock::now();
  size_t sum = 0;
  for (int i = 0; i < n; ++i) {
    std::string k = key(i);
    MDB_val mk{k.size(), k.data()}, mv;
    mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
    if (mdb_get(txn, dbi, &mk, &mv) == 0) sum += mv.mv_size;
    mdb_txn_abort(txn);
  }
  r.get_ns = ns_since(t0, n);
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    std::string k = key(i + n);
    MDB_val mk{k.size(), k.data()}, mv;
    mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
    if (mdb_get(txn, dbi, &mk, &mv) == 0) sum += mv.mv_size;
    mdb_txn_abort(txn);
  }
  r.miss_ns = ns_since(t0, n);
  mdb_env_close(env);
  if (sum == 0) std::fputs("lmdb: nothing read\n", stderr);
  return r;
}

Row bench_rocksdb(const std::string& dir, int n, const std::string& v) {
  rocksdb::DB* db;
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB::Open(o, dir, &db);
  rocksdb::WriteOptions wo;
  rocksdb::ReadOptions ro;
  Row r{};
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) db->Put(wo, key(i), v);
  r.set_ns = ns_since(t0, n);
  std::string out;
  size_t sum = 0;
  t0 = Clock::now();
  for (int i = 0; i < n; ++i)
    if (db->Get(ro, key(i), &out).ok()) sum += out.size();
  r.get_ns = ns_since(t0, n);
  t0 = Clock::now();
  for (int i = 0; i < n; ++i)
    if (db->Get(ro, key(i + n), &out).ok()) sum += out.size();
  r.miss_ns = ns_since(t0, n);
  delete db;
  if (sum == 0) std::fputs("rocksdb: nothing read\n", stderr);
  return r;
}

Row bench_sqlite(const std::string& dir, int n, const std::string& v) {
  sqlite3* db;
  sqlite3_open((dir + "/db.sqlite").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
               "CREATE TABLE IF NOT EXISTS c(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID;",
               nullptr, nullptr, nullptr);
  sqlite3_stmt *put, *get;
  sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO c VALUES(?,?)", -1, &put, nullptr);
  sqlite3_prepare_v2(db, "SELECT v FROM c WHERE k=?", -1, &get, nullptr);
  Row r{};
  size_t sum = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    std::string k = key(i);
    sqlite3_bind_blob(put, 1, k.data(), int(k.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(put, 2, v.data(), int(v.size()), SQLITE_STATIC);
    sqlite3_step(put);
    sqlite3_reset(put);
  }
  r.set_ns = ns_since(t0, n);
  auto read = [&](int off) {
    auto t = Clock::now();
    for (int i = 0; i < n; ++i) {
      std::string k = key(i + off);
      sqlite3_bind_blob(get, 1, k.data(), int(k.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(get) == SQLITE_ROW) sum += size_t(sqlite3_column_bytes(get, 0));
      sqlite3_reset(get);
    }
    return ns_since(t, n);
  };
  r.get_ns = read(0);
  r.miss_ns = read(n);
  sqlite3_finalize(put);
  sqlite3_finalize(get);
  sqlite3_close(db);
  if (sum == 0) std::fputs("sqlite: nothing read\n", stderr);
  return r;
}
}  // namespace

int main(int argc, char** argv) {
  std::string base = argc > 1 ? argv[1] : "/tmp/disk_choice";
  int n = argc > 2 ? std::stoi(argv[2]) : 20000;
  std::string v(1024, 'x');
  std::vector<Row> rows[3];
  for (int round = 0; round < 5; ++round) {  // interleaved rounds, fresh directories
    for (int s = 0; s < 3; ++s) {
      std::string dir = base + "/" + std::to_string(round) + "_" + std::to_string(s);
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
      rows[s].push_back(s == 0   ? bench_lmdb(dir, n, v)
                        : s == 1 ? bench_rocksdb(dir, n, v)
                                 : bench_sqlite(dir, n, v));
      std::filesystem::remove_all(dir);
    }
  }
  const char* names[3] = {"lmdb", "rocksdb", "sqlite"};
  for (int s = 0; s < 3; ++s) {
    auto med = [&](double Row::*f) {
      std::vector<double> xs;
      for (auto& r : rows[s]) xs.push_back(r.*f);
      std::sort(xs.begin(), xs.end());
      return xs[xs.size() / 2];
    };
    std::printf(
        "{\"store\": \"%s\", \"set_ns\": %.0f, \"get_hit_ns\": %.0f, \"get_miss_ns\": %.0f}\n",
        names[s], med(&Row::set_ns), med(&Row::get_ns), med(&Row::miss_ns));
  }
}
