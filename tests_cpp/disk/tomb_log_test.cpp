// The store's removal log (disk/tomb_log.hpp) as `changes_since` reads it: removals in sequence
// order among the writes, evictions included, and a floor that rises when the log is trimmed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <limits>
#include <string>

#include "disk/disk_store.hpp"

namespace stratacache::disk {
namespace {

namespace fs = std::filesystem;
constexpr double kInf = std::numeric_limits<double>::infinity();

class TombLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tomb_log_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  DiskStore open(std::uint64_t max_bytes = 1 << 20) {
    return DiskStore(Options{dir_.string(), max_bytes, Durability::kNone, {}});
  }

  fs::path dir_;
};

std::string kinds(const ScanBatch& batch) {
  std::string out;
  for (const auto& e : batch.entries) out += std::string(1, e.kind) + e.key + " ";
  return out;
}

TEST_F(TombLogTest, RemovalsComeInSequenceOrderWithTheWrites) {
  auto store = open();
  ASSERT_TRUE(store.set("a", "1", kInf));        // 1
  ASSERT_TRUE(store.set("b", "2", kInf));        // 2
  EXPECT_EQ(store.remove({"a", "absent"}), 1u);  // 3: only what was there
  EXPECT_EQ(store.remove_prefix("b"), 1u);       // 4: one record for the prefix
  ASSERT_TRUE(store.set("a", "again", kInf));    // 5
  auto all = store.changes_since(0, 100, 1 << 20);
  EXPECT_EQ(kinds(all), "ka pb wa ");
  EXPECT_TRUE(all.done);
  EXPECT_EQ(all.next_seq, 5u);
  EXPECT_EQ(all.log_floor, 0u);
  auto later = store.changes_since(3, 100, 1 << 20);
  EXPECT_EQ(kinds(later), "pb wa ");
  auto one = store.changes_since(0, 1, 1 << 20);  // bounded: resumes from next_seq
  EXPECT_EQ(kinds(one), "ka ");
  EXPECT_FALSE(one.done);
  EXPECT_EQ(one.next_seq, 3u);
}

TEST_F(TombLogTest, EvictionsAreLogged) {
  auto store = open(1 << 16);
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(store.set("k" + std::to_string(i), std::string(500, 'v'), kInf));
  ASSERT_GT(store.stats().evictions, 0u);
  auto all = store.changes_since(0, 100000, 1 << 30);
  std::size_t removed = 0;
  for (const auto& e : all.entries) removed += e.kind == 'k' ? 1 : 0;
  EXPECT_EQ(removed, store.stats().evictions);
}

TEST_F(TombLogTest, TrimmingRaisesTheFloorAndSurvivesAReopen) {
  std::uint64_t floor = 0;
  {
    auto store = open(1 << 16);  // the smallest log: 64 KiB
    for (int i = 0; i < 3000; ++i) {
      std::string key = "key-" + std::to_string(i) + std::string(40, 'p');
      ASSERT_TRUE(store.set(key, "v", kInf));
      ASSERT_EQ(store.remove({key}), 1u);
    }
    floor = store.changes_since(0, 1, 1).log_floor;
    EXPECT_GT(floor, 0u);
    EXPECT_LT(floor, store.sequence());
    auto after = store.changes_since(floor, 100000, 1 << 30);
    EXPECT_FALSE(after.entries.empty());
    EXPECT_GT(after.entries.front().seq, floor);  // what is left starts after it
    EXPECT_EQ(after.entries.front().kind, 'k');
  }
  auto reopened = open(1 << 16);
  EXPECT_EQ(reopened.changes_since(0, 1, 1).log_floor, floor);
}

}  // namespace
}  // namespace stratacache::disk
