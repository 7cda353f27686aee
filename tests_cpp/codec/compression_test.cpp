#include "codec/compression.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace stratacache::codec {
namespace {

std::string compressible(std::size_t n) {
  std::string s;
  while (s.size() < n) s += "{\"name\": \"stratacache\", \"id\": " + std::to_string(s.size()) + "}";
  s.resize(n);
  return s;
}

std::string random_bytes(std::size_t n) {
  std::mt19937 rng(7);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(Compression, RoundTripsAboveThreshold) {
  const std::string payload = compressible(10'000);
  for (Compression algorithm : {Compression::kLz4, Compression::kZstd}) {
    const auto packed = compress(payload, CompressionOptions{.algorithm = algorithm});
    ASSERT_TRUE(packed.has_value());
    EXPECT_LT(packed->size(), payload.size() / 2);
    const Result<std::string> back = decompress(algorithm, *packed, payload.size());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back.value(), payload);
  }
}

TEST(Compression, SkipsSmallOffAndIncompressiblePayloads) {
  EXPECT_FALSE(compress(compressible(1023), CompressionOptions{}).has_value());
  EXPECT_TRUE(compress(compressible(1024), CompressionOptions{}).has_value());
  EXPECT_FALSE(compress(compressible(5000), CompressionOptions{.algorithm = Compression::kNone}));
  for (Compression algorithm : {Compression::kLz4, Compression::kZstd}) {
    EXPECT_FALSE(compress(random_bytes(5000), CompressionOptions{.algorithm = algorithm}));
  }
}

TEST(Compression, WrongSizeOrGarbageIsCorrupt) {
  const std::string payload = compressible(4000);
  for (Compression algorithm : {Compression::kLz4, Compression::kZstd}) {
    const auto packed = compress(payload, CompressionOptions{.algorithm = algorithm});
    ASSERT_TRUE(packed.has_value());
    for (std::size_t size : {payload.size() - 1, payload.size() + 1, std::size_t{0}}) {
      const Result<std::string> back = decompress(algorithm, *packed, size);
      ASSERT_FALSE(back.ok());
      EXPECT_EQ(back.error().code, ErrorCode::kCorrupt);
    }
    const Result<std::string> garbage = decompress(algorithm, random_bytes(300), 1000);
    ASSERT_FALSE(garbage.ok());
    EXPECT_EQ(garbage.error().code, ErrorCode::kCorrupt);
  }
}

}  // namespace
}  // namespace stratacache::codec
