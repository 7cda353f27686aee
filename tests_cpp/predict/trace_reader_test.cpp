#include "predict/trace_reader.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

namespace fs = std::filesystem;

class TraceReader : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("stratacache_trace_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string plain(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string gzip(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    gzFile f = gzopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
              static_cast<int>(text.size()));
    gzclose(f);
    return p.string();
  }
  static ErrorCode code_of(const std::string& path, std::string* message = nullptr) {
    try {
      (void)read_trace(path);
    } catch (const Error& e) {
      if (message != nullptr) *message = e.what();
      return e.code();
    }
    ADD_FAILURE() << "no error for " << path;
    return ErrorCode::kInvalidConfig;
  }

  fs::path dir_;
};

TEST_F(TraceReader, ReadsPlainAndGzip) {
  const std::string text = "1\n-2\n30\n0\n";
  const std::vector<std::int64_t> expected = {1, -2, 30, 0};
  EXPECT_EQ(read_trace(plain("a.txt", text)), expected);
  EXPECT_EQ(read_trace(gzip("a.txt.gz", text)), expected);
}

TEST_F(TraceReader, ReadsInt64Extremes) {
  const std::vector<std::int64_t> expected = {std::numeric_limits<std::int64_t>::max(),
                                              std::numeric_limits<std::int64_t>::min(), 7};
  EXPECT_EQ(read_trace(plain("x.txt", "9223372036854775807\n-9223372036854775808\n007\n")),
            expected);
}

TEST_F(TraceReader, LastLineMayLackNewline) {
  EXPECT_EQ(read_trace(plain("n.txt", "5\n6")), (std::vector<std::int64_t>{5, 6}));
}

TEST_F(TraceReader, EmptyFileIsEmptyTrace) { EXPECT_TRUE(read_trace(plain("e.txt", "")).empty()); }

TEST_F(TraceReader, ManyLinesAcrossReadChunks) {
  std::string text;
  for (int i = 0; i < 300000; ++i) text += std::to_string(i * 37 - 5000) + '\n';
  const auto keys = read_trace(gzip("big.txt.gz", text));
  ASSERT_EQ(keys.size(), 300000U);
  for (int i = 0; i < 300000; ++i) ASSERT_EQ(keys[i], i * 37 - 5000);
}

TEST_F(TraceReader, MissingFileIsIoError) {
  EXPECT_EQ(code_of((dir_ / "absent.txt.gz").string()), ErrorCode::kIo);
}

TEST_F(TraceReader, DirectoryIsIoError) { EXPECT_EQ(code_of(dir_.string()), ErrorCode::kIo); }

TEST_F(TraceReader, NonIntegerLineNamesItsNumber) {
  std::string message;
  EXPECT_EQ(code_of(gzip("bad.txt.gz", "1\n2\nabc\n4\n"), &message), ErrorCode::kCorrupt);
  EXPECT_NE(message.find(":3:"), std::string::npos) << message;
  EXPECT_NE(message.find("abc"), std::string::npos) << message;
}

TEST_F(TraceReader, RejectsMalformedLines) {
  for (const std::string line :
       {"", "-", "1 ", " 1", "+1", "1.0", "0x10", "1\r", "12a", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999999"}) {
    std::string message;
    EXPECT_EQ(code_of(plain("m.txt", "5\n" + line + "\n6\n"), &message), ErrorCode::kCorrupt)
        << "'" << line << "'";
    EXPECT_NE(message.find(":2:"), std::string::npos) << message;
  }
}

TEST_F(TraceReader, LongGarbageLineIsCorrupt) {
  std::string message;
  EXPECT_EQ(code_of(plain("long.txt", "1\n" + std::string(3 << 20, '7')), &message),
            ErrorCode::kCorrupt);
  EXPECT_NE(message.find(":2:"), std::string::npos) << message;
}

TEST_F(TraceReader, TruncatedGzipIsAnError) {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += std::to_string(i) + '\n';
  const std::string path = gzip("t.txt.gz", text);
  fs::resize_file(path, fs::file_size(path) / 2);
  std::string message;
  EXPECT_EQ(code_of(path, &message), ErrorCode::kCorrupt);
  EXPECT_NE(message.find("after line"), std::string::npos) << message;
}

}  // namespace
}  // namespace stratacache::predict
