// Concurrency stress for the access recorder: writers lap a small ring while a reader takes
// snapshots. Run under TSan by the `tsan` preset; here it checks that no snapshot ever holds a
// torn record, and that the counts add up once the writers stop.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/hash.hpp"
#include "store/access_recorder.hpp"
#include "store/policies.hpp"

namespace stratacache::store {
namespace {

// Every field of a record is derived from (thread, i), so a record mixing two writes is caught.
AccessRecord make(std::uint32_t thread, std::uint64_t i) {
  const std::uint64_t id = (std::uint64_t{thread} << 32) | i;
  return {static_cast<Nanos>(id), mix64(id), thread, static_cast<AccessOp>(i % 4)};
}

bool whole(const AccessRecord& r) {
  const auto id = static_cast<std::uint64_t>(r.time);
  const auto thread = static_cast<std::uint32_t>(id >> 32);
  return r == make(thread, id & 0xffffffffULL);
}

TEST(AccessRecorderStress, SnapshotsNeverHoldTornRecords) {
  constexpr int kWriters = 4;
  constexpr std::uint64_t kPerWriter = 100'000;
  AccessRecorder rec(1.0, 1024);
  std::atomic<int> running{kWriters};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < kPerWriter; ++i) {
        const AccessRecord r = make(static_cast<std::uint32_t>(t), i);
        rec.record(r.key_hash, r.namespace_hash, r.op, r.time);
      }
      running.fetch_sub(1);
    });
  }
  std::uint64_t snapshots = 0;
  while (running.load() > 0 || snapshots == 0) {
    const auto got = rec.snapshot();
    ASSERT_LE(got.size(), rec.capacity());
    std::vector<std::int64_t> last(kWriters, -1);
    for (const auto& r : got) {
      ASSERT_TRUE(whole(r)) << "torn record at time " << r.time;
      // One writer's records come out in the order it wrote them.
      const auto thread = r.namespace_hash;
      ASSERT_LT(thread, static_cast<std::uint32_t>(kWriters));
      ASSERT_GT(r.time, last[thread]);
      last[thread] = r.time;
    }
    ++snapshots;
  }
  for (auto& w : writers) w.join();
  const RecorderStats st = rec.stats();
  EXPECT_EQ(st.recorded, kWriters * kPerWriter);
  const auto final_records = rec.snapshot();
  EXPECT_LE(final_records.size(), rec.capacity());
  EXPECT_GE(final_records.size() + st.dropped, rec.capacity());
  for (const auto& r : final_records) EXPECT_TRUE(whole(r));
  EXPECT_GT(snapshots, 0u);
}

TEST(AccessRecorderStress, StoreRecordsEveryOperationOfEveryThread) {
  constexpr int kThreads = 4;
  constexpr int kOps = 20'000;
  for (std::size_t shards : {1u, 4u}) {
    AccessRecorder fresh(1.0, std::uint64_t{1} << 17);  // holds them all
    auto store = make_store<std::string>(
        "tinylfu", StoreConfig{.max_entries = 256, .shards = shards, .recorder = &fresh});
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::vector<std::string> dropped;
        std::uint64_t x = static_cast<std::uint64_t>(t) * 7919 + 1;
        for (int i = 0; i < kOps; ++i) {
          x = mix64(x);
          const std::string key = "k" + std::to_string(x % 512);
          const std::uint64_t h = hash_bytes(key);
          if (x % 5 == 0) {
            store->erase({"", key}, h, dropped);
          } else if (x % 5 == 1) {
            store->set({"", key}, h, key, 1, kNoTtl, dropped);
          } else {
            (void)store->get({"", key}, h);
          }
          dropped.clear();
        }
      });
    }
    for (auto& t : threads) t.join();
    const auto got = fresh.snapshot();
    const RecorderStats st = fresh.stats();
    EXPECT_EQ(st.recorded, std::uint64_t{kThreads} * kOps);
    EXPECT_EQ(got.size() + st.dropped, st.recorded);
    const StoreStats ss = store->stats();
    std::uint64_t reads = 0, hits = 0;
    for (const auto& r : got) {
      reads += r.op == AccessOp::kGetHit || r.op == AccessOp::kGetMiss ? 1 : 0;
      hits += r.op == AccessOp::kGetHit ? 1 : 0;
    }
    if (st.dropped == 0) {
      EXPECT_EQ(reads, ss.hits + ss.misses);
      EXPECT_EQ(hits, ss.hits);
    }
  }
}

}  // namespace
}  // namespace stratacache::store
