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

TEST_F(TraceReader, EveryDigitCountAndSign) {
  // The parser takes 8 digits at a time: 1 to 19 digits, with and without '-', at every
  // alignment, with the value's own digits (no zeros to hide a misplaced one).
  std::string text;
  std::vector<std::int64_t> expected;
  std::int64_t v = 0;
  for (int digits = 1; digits <= 18; ++digits) {
    v = v * 10 + (digits % 9) + 1;
    for (const std::int64_t k : {v, -v}) {
      text += std::to_string(k) + '\n';
      expected.push_back(k);
    }
  }
  for (const std::int64_t k :
       {std::int64_t{1234567891234567891}, std::int64_t{-1987654321987654321}}) {
    text += std::to_string(k) + '\n';
    expected.push_back(k);
  }
  EXPECT_EQ(read_trace(plain("d.txt", text)), expected);
  EXPECT_EQ(read_trace(gzip("d.txt.gz", text)), expected);
}

TEST_F(TraceReader, ReadsConcatenatedGzipMembers) {
  // `cat a.gz b.gz` is one gzip file of two members (as gzip -d and zlib read it).
  const std::string a = gzip("a.txt.gz", "1\n2\n");
  const std::string b = gzip("b.txt.gz", "3\n4");
  std::ifstream in_a(a, std::ios::binary), in_b(b, std::ios::binary);
  std::ofstream(dir_ / "ab.txt.gz", std::ios::binary) << in_a.rdbuf() << in_b.rdbuf();
  EXPECT_EQ(read_trace((dir_ / "ab.txt.gz").string()), (std::vector<std::int64_t>{1, 2, 3, 4}));
}

TEST_F(TraceReader, IgnoresBytesAfterTheLastGzipMember) {
  const std::string path = gzip("g.txt.gz", "7\n8\n");
  std::ofstream(path, std::ios::binary | std::ios::app) << "not gzip";
  EXPECT_EQ(read_trace(path), (std::vector<std::int64_t>{7, 8}));
}

TEST_F(TraceReader, CorruptGzipDataIsCorrupt) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += std::to_string(i) + '\n';
  const std::string path = gzip("c.txt.gz", text);
  // Flip a bit of the stored CRC-32 (the trailer's first 4 bytes): the data inflates, the check
  // fails.
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(-8, std::ios::end);
  char c = 0;
  f.get(c);
  f.seekp(-8, std::ios::end);
  f.put(static_cast<char>(c ^ 1));
  f.close();
  std::string message;
  EXPECT_EQ(code_of(path, &message), ErrorCode::kCorrupt);
  EXPECT_NE(message.find("after line"), std::string::npos) << message;
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
