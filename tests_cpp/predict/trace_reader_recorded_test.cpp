// read_trace on the files a store's recorder writes (store/access_trace.hpp).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/hash.hpp"
#include "predict/simulator.hpp"
#include "predict/trace_reader.hpp"
#include "store/access_trace.hpp"

namespace stratacache::predict {
namespace {

namespace fs = std::filesystem;
using store::AccessOp;
using store::AccessRecord;

class RecordedTrace : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() /
             ("stratacache_recorded_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".gz"))
                .string();
  }
  void TearDown() override { fs::remove(path_); }

  void write_text(const std::string& text) {
    gzFile f = gzopen(path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
  }
  ErrorCode code_of(std::string* message = nullptr) const {
    try {
      (void)read_trace(path_);
    } catch (const Error& e) {
      if (message != nullptr) *message = e.what();
      return e.code();
    }
    ADD_FAILURE() << "no error";
    return ErrorCode::kInvalidConfig;
  }

  std::string path_;
};

TEST_F(RecordedTrace, ReadsTheReadsKeyedByTheirHash) {
  const std::vector<AccessRecord> records = {
      {1, 5, 0, AccessOp::kGetMiss}, {2, 5, 0, AccessOp::kSet},
      {3, 5, 0, AccessOp::kGetHit},  {4, ~0ULL, 9, AccessOp::kGetMiss},
      {5, 5, 0, AccessOp::kDelete},  {6, 7, 0, AccessOp::kGetHit}};
  store::write_trace(path_, records, 0.5);
  const std::vector<std::int64_t> expected = {5, 5, -1, 7};
  EXPECT_EQ(read_trace(path_), expected);
}

TEST_F(RecordedTrace, ManyRecordsAcrossReadChunks) {
  std::vector<AccessRecord> records;
  std::vector<std::int64_t> expected;
  for (std::uint64_t i = 0; i < 100'000; ++i) {
    const std::uint64_t key = mix64(i % 1000);
    const auto op = i % 3 == 0 ? AccessOp::kSet : AccessOp::kGetHit;
    records.push_back({static_cast<Nanos>(i) * 1'000'000'007, key, 17, op});
    if (op != AccessOp::kSet) expected.push_back(static_cast<std::int64_t>(key));
  }
  store::write_trace(path_, records, 1.0);
  EXPECT_EQ(read_trace(path_), expected);
  // The simulator takes it like any trace.
  const SimulationResult r = simulate_file(path_, "lru", 1000);
  EXPECT_EQ(r.requests(), expected.size());
  EXPECT_EQ(r.misses, 1000u);
}

TEST_F(RecordedTrace, HeaderOnlyIsEmpty) {
  store::write_trace(path_, {}, 0.01);
  EXPECT_TRUE(read_trace(path_).empty());
}

TEST_F(RecordedTrace, RejectsAnotherVersion) {
  write_text("# stratacache-trace v2 sample_rate=1\n1 h 2 3\n");
  std::string message;
  EXPECT_EQ(code_of(&message), ErrorCode::kCorrupt);
  EXPECT_NE(message.find("'v2'"), std::string::npos) << message;
}

TEST_F(RecordedTrace, NamesAMalformedRecordLine) {
  for (const char* bad : {"1 x 2 3", "1 h 2", "1 h 2 3 4", "1 h -2 3", "1 h 2 4294967296",
                          "1 h 18446744073709551616 3", "a h 2 3", "1  h 2 3"}) {
    write_text(std::string("# stratacache-trace v1 sample_rate=1\n1 h 2 3\n") + bad + "\n");
    std::string message;
    EXPECT_EQ(code_of(&message), ErrorCode::kCorrupt) << bad;
    EXPECT_NE(message.find(":3:"), std::string::npos) << message;
  }
}

TEST_F(RecordedTrace, IntegerTracesAreUnchanged) {
  write_text("# a comment is not a header\n");
  EXPECT_EQ(code_of(), ErrorCode::kCorrupt);
  write_text("1\n2\n-3\n");
  EXPECT_EQ(read_trace(path_), (std::vector<std::int64_t>{1, 2, -3}));
}

}  // namespace
}  // namespace stratacache::predict
