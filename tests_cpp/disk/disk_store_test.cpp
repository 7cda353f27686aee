#include "disk/disk_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "common/error.hpp"

namespace stratacache::disk {
namespace {

namespace fs = std::filesystem;
constexpr double kInf = std::numeric_limits<double>::infinity();

class DiskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("disk_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  DiskStore open(std::uint64_t max_bytes = 1 << 20, Durability d = Durability::kNone) {
    return DiskStore(Options{dir_.string(), max_bytes, d, [this] { return now_ms_; }});
  }

  fs::path dir_;
  WallMillis now_ms_ = 1'700'000'000'000;
};

TEST_F(DiskStoreTest, SetGetDeleteRoundTrip) {
  auto store = open();
  EXPECT_FALSE(store.get("a"));
  ASSERT_TRUE(store.set("a", "envelope-a", kInf));
  auto hit = store.get("a");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->envelope, "envelope-a");
  EXPECT_TRUE(std::isinf(hit->ttl_left));
  EXPECT_EQ(store.remove({"a", "missing"}), 1u);
  EXPECT_FALSE(store.get("a"));
  auto s = store.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.sets, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
}

TEST_F(DiskStoreTest, ExpiredEntriesAreNeverReturned) {
  auto store = open();
  ASSERT_TRUE(store.set("k", "v", 2.0));
  ASSERT_TRUE(store.get("k"));
  EXPECT_NEAR(*store.ttl("k"), 2.0, 1e-9);
  now_ms_ += 1500;
  EXPECT_NEAR(store.get("k")->ttl_left, 0.5, 1e-9);
  now_ms_ += 500;
  EXPECT_FALSE(store.get("k"));
  EXPECT_FALSE(store.ttl("k"));
  EXPECT_TRUE(store.keys("", 10).empty());
  EXPECT_EQ(store.stats().expired, 1u);
  EXPECT_EQ(store.purge_expired(100), 1u);
  EXPECT_EQ(store.stats().entries, 0u);
}

TEST_F(DiskStoreTest, ZeroTtlRemovesAndTouchRenews) {
  auto store = open();
  ASSERT_TRUE(store.set("k", "v", 1.0));
  EXPECT_TRUE(store.touch("k", 10.0));
  now_ms_ += 5000;
  EXPECT_TRUE(store.get("k"));
  EXPECT_TRUE(store.set("k", "v", 0.0));
  EXPECT_FALSE(store.get("k"));
  EXPECT_FALSE(store.touch("k", 1.0));
}

TEST_F(DiskStoreTest, NeverExceedsMaxBytesAndEvictsOldestFirst) {
  const std::uint64_t bound = 1 << 18;
  auto store = open(bound);
  std::string value(1000, 'x');
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(store.set("key" + std::to_string(i), value, kInf));
    ASSERT_LE(store.stats().bytes, bound);
  }
  auto s = store.stats();
  EXPECT_GT(s.evictions, 0u);
  EXPECT_FALSE(store.get("key0"));    // the oldest went first
  EXPECT_TRUE(store.get("key1999"));  // the newest stays
  EXPECT_EQ(s.entries + s.evictions, 2000u);
}

TEST_F(DiskStoreTest, ReplacingKeepsTheTotalExact) {
  auto store = open();
  ASSERT_TRUE(store.set("k", std::string(5000, 'a'), kInf));
  auto big = store.stats().bytes;
  ASSERT_TRUE(store.set("k", "small", kInf));
  EXPECT_LT(store.stats().bytes, big);
  EXPECT_EQ(store.stats().bytes, entry_weight(1, 5 + 16));
  EXPECT_EQ(store.stats().entries, 1u);
}

TEST_F(DiskStoreTest, RefusesAnEntryOutweighingTheBound) {
  auto store = open(1 << 16);
  EXPECT_FALSE(store.set("k", std::string(1 << 16, 'x'), kInf));
  EXPECT_EQ(store.stats().rejected, 1u);
  EXPECT_FALSE(store.get("k"));
}

TEST_F(DiskStoreTest, PrefixKeysAndPrefixDelete) {
  auto store = open();
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(store.set("a:" + std::to_string(i), "v", kInf));
  ASSERT_TRUE(store.set("b:1", "v", kInf));
  EXPECT_EQ(store.keys("a:", 10).size(), 10u);
  EXPECT_EQ(store.keys("b:", 10), std::vector<std::string>{"b:1"});
  EXPECT_EQ(store.remove_prefix("a:"), 3000u);
  EXPECT_TRUE(store.keys("a:", 10).empty());
  EXPECT_TRUE(store.get("b:1"));
  EXPECT_EQ(store.remove_prefix(""), 1u);
  EXPECT_EQ(store.stats().bytes, 0u);
}

TEST_F(DiskStoreTest, ReopenedStoreKeepsEntriesAndTotals) {
  {
    auto store = open(1 << 20, Durability::kSync);
    ASSERT_TRUE(store.set("k", "persisted", kInf));
  }
  auto store = open(1 << 20, Durability::kSync);
  ASSERT_TRUE(store.get("k"));
  EXPECT_EQ(store.get("k")->envelope, "persisted");
  EXPECT_EQ(store.stats().bytes, entry_weight(1, 9 + 16));
}

TEST_F(DiskStoreTest, GetManyReadsOneSnapshot) {
  auto store = open();
  ASSERT_TRUE(store.set("a", "1", kInf));
  auto got = store.get_many({"a", "b"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->envelope, "1");
  EXPECT_FALSE(got[1]);
}

TEST_F(DiskStoreTest, GarbageStoreFileIsATypedError) {
  {
    std::ofstream out(dir_ / "data.mdb", std::ios::binary);
    out << std::string(20000, 'z');
  }
  try {
    auto store = open();
    FAIL() << "opened a garbage file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kDisk);
  }
}

TEST_F(DiskStoreTest, TruncatedStoreFileIsATypedError) {
  {
    auto store = open();
    for (int i = 0; i < 200; ++i)
      ASSERT_TRUE(store.set("k" + std::to_string(i), std::string(3000, 'v'), kInf));
  }
  fs::resize_file(dir_ / "data.mdb", 3 * 4096);
  try {
    auto store = open();
    FAIL() << "opened a truncated file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kDisk);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
  }
}

TEST_F(DiskStoreTest, RejectsATooSmallBound) { EXPECT_THROW(open(100), Error); }

}  // namespace
}  // namespace stratacache::disk
