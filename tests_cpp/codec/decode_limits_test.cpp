#include "codec/decode_limits.hpp"

#include <gtest/gtest.h>

#include <string>

#include "codec/codec.hpp"
#include "codec_test_support.hpp"

namespace stratacache::codec {
namespace {

using testing::make_codec;
using testing::Protection;
using testing::test_metadata;

std::string repeated(std::string_view item, std::size_t n) {
  std::string s = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) s += ',';
    s += item;
  }
  return s + "]";
}

TEST(DecodeLimits, DerivedFromMaxValueBytesWithFloors) {
  const DecodeLimits big = DecodeLimits::derived(std::size_t{64} << 20, 64);
  EXPECT_EQ(big.max_items, std::size_t{4} << 20);
  EXPECT_EQ(big.max_bytes, std::size_t{128} << 20);
  const DecodeLimits small = DecodeLimits::derived(1024, 8);
  EXPECT_EQ(small.max_items, std::size_t{64} << 10);
  EXPECT_EQ(small.max_bytes, std::size_t{1} << 20);
  EXPECT_EQ(small.max_depth, 8u);
}

TEST(DecodeLimits, BudgetNamesTheBoundPassed) {
  DecodeBudget budget(DecodeLimits{.max_items = 3, .max_bytes = 100, .max_depth = 4});
  EXPECT_TRUE(budget.charge(2, 50));
  EXPECT_FALSE(budget.charge(2, 0));
  EXPECT_NE(budget.exceeded().message.find("max_items=3"), std::string::npos);
  EXPECT_FALSE(budget.charge(1, 51));
  EXPECT_NE(budget.exceeded().message.find("max_decoded_bytes=100"), std::string::npos);
  EXPECT_TRUE(budget.charge(1, 50));
  EXPECT_FALSE(budget.charge(1, 0));
}

TEST(JsonShape, CountsValuesKeysBytesAndDepth) {
  const DecodeLimits limits{.max_items = 5, .max_bytes = 1000, .max_depth = 2};
  EXPECT_FALSE(check_json_shape(R"({"a": [1, "x"]})", limits));  // five values fit
  EXPECT_TRUE(check_json_shape(R"({"a": [1, "x"], "b": null})", limits));
  EXPECT_FALSE(check_json_shape("[[]]", limits));
  const std::optional<Failure> deep = check_json_shape("[[[]]]", limits);
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->code, ErrorCode::kTooLarge);
  EXPECT_NE(deep->message.find("max_depth=2"), std::string::npos);
  // Brackets, commas and escaped quotes inside strings are string bytes, not structure.
  EXPECT_FALSE(check_json_shape(R"(["[[[,,,\"]]]"])", limits));
  const std::optional<Failure> bytes =
      check_json_shape("\"" + std::string(2000, 'x') + "\"", limits);
  ASSERT_TRUE(bytes);
  EXPECT_NE(bytes->message.find("max_decoded_bytes"), std::string::npos);
}

TEST(JsonShape, CodecRefusesJsonBombsOnDecodeAndEncode) {
  CodecConfig lifted;
  lifted.compression.algorithm = Compression::kZstd;
  lifted.limits = DecodeLimits{.max_items = 1U << 30, .max_bytes = 1U << 30, .max_depth = 64};
  const Codec writer(lifted);
  const std::string bomb = repeated("[]", 300'000);  // 600 kB of JSON, 300k lists
  const std::string data = writer.encode("k", Serializer::kJson, bomb, test_metadata());
  EXPECT_LT(data.size(), 2000u);
  EXPECT_TRUE(writer.decode("k", data).ok());
  const Codec reader = make_codec(Compression::kZstd, Protection::kPlain);
  const Result<Decoded> refused = reader.decode("k", data);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kTooLarge);
  try {
    (void)reader.encode("k", Serializer::kJson, bomb, test_metadata());
    FAIL() << "encode accepted a value its own decode refuses";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kTooLarge);
  }
  // msgpack payloads are bounded by the walk in the bindings, not here.
  EXPECT_TRUE(reader.decode("k", writer.encode("k", Serializer::kMsgpack, bomb, {})).ok());
}

}  // namespace
}  // namespace stratacache::codec
