#include "store/access_recorder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "store/access_trace.hpp"
#include "store/policies.hpp"

namespace stratacache::store {
namespace {

ErrorCode code_of(double rate, std::uint64_t capacity) {
  try {
    AccessRecorder r(rate, capacity);
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no error for rate " << rate << " capacity " << capacity;
  return ErrorCode::kIo;
}

TEST(AccessRecorder, RejectsRatesAndCapacitiesOutOfRange) {
  for (double rate : {0.0, -0.5, 1.5, std::nan(""), std::ldexp(1.0, -26)}) {
    EXPECT_EQ(code_of(rate, 16), ErrorCode::kInvalidConfig) << rate;
  }
  EXPECT_EQ(code_of(0.5, 0), ErrorCode::kInvalidConfig);
  EXPECT_EQ(code_of(0.5, AccessRecorder::kMaxCapacity + 1), ErrorCode::kInvalidConfig);
}

TEST(AccessRecorder, RoundsCapacityUpToAPowerOfTwo) {
  EXPECT_EQ(AccessRecorder(1.0, 1).capacity(), 1u);
  EXPECT_EQ(AccessRecorder(1.0, 1000).capacity(), 1024u);
  EXPECT_EQ(AccessRecorder(1.0, 4096).capacity(), 4096u);
  EXPECT_DOUBLE_EQ(AccessRecorder(0.25, 8).sample_rate(), 0.25);
}

TEST(AccessRecorder, SnapshotReturnsRecordsOldestFirst) {
  AccessRecorder r(1.0, 8);
  const std::vector<AccessRecord> written = {{10, 1, 7, AccessOp::kGetMiss},
                                             {20, 2, 7, AccessOp::kSet},
                                             {30, 1, 9, AccessOp::kGetHit},
                                             {40, ~0ULL, ~0U, AccessOp::kDelete}};
  for (const auto& w : written) r.record(w.key_hash, w.namespace_hash, w.op, w.time);
  EXPECT_EQ(r.snapshot(), written);
  const RecorderStats st = r.stats();
  EXPECT_EQ(st.recorded, 4u);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.capacity, 8u);
}

TEST(AccessRecorder, KeepsTheNewestWhenTheRingWraps) {
  AccessRecorder r(1.0, 16);
  for (std::uint64_t i = 0; i < 100; ++i) {
    r.record(i, 0, AccessOp::kGetHit, static_cast<Nanos>(i));
  }
  const auto got = r.snapshot();
  ASSERT_EQ(got.size(), 16u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].key_hash, 84 + i);
  EXPECT_EQ(r.stats().recorded, 100u);
}

TEST(AccessRecorder, SamplesAboutTheRateOfKeysAndAlwaysTheSameOnes) {
  for (double rate : {0.5, 0.1, 0.01}) {
    AccessRecorder r(rate, 1);
    const int n = 200'000;
    int kept = 0;
    for (int i = 0; i < n; ++i) {
      const std::uint64_t h = mix64(static_cast<std::uint64_t>(i) + 12345);
      kept += r.sampled(h) ? 1 : 0;
      EXPECT_EQ(r.sampled(h), AccessRecorder(rate, 1).sampled(h));
    }
    // Binomial: 5 sigma is under 5% of the mean at these sizes, so 10% never flakes.
    EXPECT_NEAR(kept, rate * n, 0.1 * rate * n) << rate;
  }
  AccessRecorder all(1.0, 1);
  EXPECT_TRUE(all.sampled(0));
  EXPECT_TRUE(all.sampled(~0ULL));
}

TEST(AccessRecorder, StoreRecordsItsAccessesWithTheirOutcome) {
  ManualClock clock(100);
  AccessRecorder rec(1.0, 64);
  auto store = make_store<std::string>(
      "lru", StoreConfig{.max_entries = 8, .clock = &clock, .recorder = &rec});
  EXPECT_EQ(store->recorder(), &rec);
  std::vector<std::string> dropped;
  const KeyView a{"ns:", "a"};
  const std::uint64_t h = hash_bytes("ns:a");
  EXPECT_FALSE(store->get(a, h));  // miss
  clock.advance(5);
  store->set(a, h, "1", 1, kNoTtl, dropped);
  clock.advance(5);
  EXPECT_TRUE(store->get(a, h));    // hit
  EXPECT_TRUE(store->probe(a, h));  // hit
  EXPECT_TRUE(store->peek(a, h));   // not an access
  EXPECT_TRUE(store->contains(a, h));
  clock.advance(5);
  EXPECT_TRUE(store->erase(a, h, dropped));
  EXPECT_FALSE(store->probe(a, h));  // a miss the caller will retry with get: not recorded
  const std::uint32_t ns = namespace_hash("ns:");
  const std::vector<AccessRecord> expected = {{100, h, ns, AccessOp::kGetMiss},
                                              {105, h, ns, AccessOp::kSet},
                                              {110, h, ns, AccessOp::kGetHit},
                                              {110, h, ns, AccessOp::kGetHit},
                                              {115, h, ns, AccessOp::kDelete}};
  EXPECT_EQ(rec.snapshot(), expected);
}

TEST(AccessRecorder, StoreRecordsOnlySampledKeys) {
  AccessRecorder rec(0.25, 1 << 16);
  auto store =
      make_store<std::string>("tinylfu", StoreConfig{.max_entries = 1000, .recorder = &rec});
  std::vector<std::string> dropped;
  std::size_t expected = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = std::to_string(i % 500);
    const std::uint64_t h = hash_bytes(key);
    if (i % 3 == 0) {
      store->set({"", key}, h, key, 1, kNoTtl, dropped);
    } else {
      (void)store->get({"", key}, h);
    }
    expected += rec.sampled(h) ? 1 : 0;
  }
  const auto got = rec.snapshot();
  EXPECT_EQ(got.size(), expected);
  for (const auto& r : got) EXPECT_TRUE(rec.sampled(r.key_hash));
  EXPECT_GT(expected, 0u);
  EXPECT_LT(expected, 2000u);
}

TEST(AccessRecorder, StoreWithoutRecorderHasNone) {
  auto store = make_store<std::string>("s3fifo", StoreConfig{.max_entries = 8});
  EXPECT_EQ(store->recorder(), nullptr);
}

std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr);
  std::string out;
  char buf[4096];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

TEST(AccessTrace, WritesTheDocumentedFormat) {
  const auto path = (std::filesystem::temp_directory_path() /
                     ("stratacache_access_trace_" + std::to_string(::getpid()) + ".gz"))
                        .string();
  const std::vector<AccessRecord> records = {
      {-5, 0, 0, AccessOp::kGetHit},
      {1'700'000'000'000'000'000, ~0ULL, ~0U, AccessOp::kGetMiss},
      {7, 42, 3, AccessOp::kSet},
      {8, 43, 3, AccessOp::kDelete}};
  EXPECT_EQ(write_trace(path, records, 0.125), 4u);
  EXPECT_EQ(gunzip(path),
            "# stratacache-trace v1 sample_rate=0.125\n"
            "-5 h 0 0\n"
            "1700000000000000000 m 18446744073709551615 4294967295\n"
            "7 s 42 3\n"
            "8 d 43 3\n");
  EXPECT_EQ(write_trace(path, {}, 1.0), 0u);
  EXPECT_EQ(gunzip(path), "# stratacache-trace v1 sample_rate=1\n");
  std::filesystem::remove(path);
}

TEST(AccessTrace, ReportsAnUnwritablePath) {
  try {
    (void)write_trace("/nonexistent-dir/x/trace.gz", {}, 1.0);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/trace.gz"), std::string::npos);
  }
}

TEST(AccessTrace, OpLettersRoundTrip) {
  for (auto op : {AccessOp::kGetHit, AccessOp::kGetMiss, AccessOp::kSet, AccessOp::kDelete}) {
    EXPECT_EQ(op_of_letter(op_letter(op)), op);
  }
  EXPECT_EQ(op_of_letter('x'), std::nullopt);
}

TEST(AccessRecorder, ReadSinceReturnsOnlyNewRecordsAndTheCursor) {
  AccessRecorder r(1.0, 8);
  for (std::uint64_t i = 0; i < 5; ++i) r.record(i, 0, AccessOp::kGetHit, 1);
  std::vector<AccessRecord> out;
  const std::uint64_t cursor = r.read_since(0, out);
  EXPECT_EQ(cursor, 5u);
  ASSERT_EQ(out.size(), 5u);
  for (std::uint64_t i = 5; i < 20; ++i) r.record(i, 0, AccessOp::kSet, 2);
  out.clear();
  EXPECT_EQ(r.read_since(cursor, out), 20u);
  ASSERT_EQ(out.size(), 8u);  // the ring holds 8: tickets 5..11 were overwritten
  EXPECT_EQ(out.front().key_hash, 12u);
  EXPECT_EQ(out.back().key_hash, 19u);
}

TEST(AccessRecorder, KeepsNamesOnlyOnceAsked) {
  AccessRecorder r(1.0, 8);
  EXPECT_EQ(r.names(), nullptr);
  r.keep_names(16);
  ASSERT_NE(r.names(), nullptr);
  EXPECT_EQ(r.names()->capacity(), 16u);
}

}  // namespace
}  // namespace stratacache::store
