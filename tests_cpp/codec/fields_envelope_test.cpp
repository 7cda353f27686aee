// Envelopes of encrypt_fields mode (kFlagFields): authenticated as a whole under a key derived
// from the field key, readable without keys, and refused by keyed readers when unauthenticated.
#include <gtest/gtest.h>

#include <string>

#include "codec/codec.hpp"
#include "codec_test_support.hpp"

namespace stratacache::codec {
namespace {

using testing::make_codec;
using testing::Protection;
using testing::test_key;
using testing::test_metadata;
using testing::text_payload;

Codec fields_codec(char fill = 'f', Compression compression = Compression::kLz4) {
  CodecConfig config;
  config.compression.algorithm = compression;
  config.field_keys.add(7, test_key(fill));
  return Codec(std::move(config));
}

TEST(FieldsEnvelope, RoundTripsWithTheFlagAndTheFieldKeyId) {
  for (const Compression c : {Compression::kNone, Compression::kZstd}) {
    const Codec codec = fields_codec('f', c);
    const std::string payload = text_payload(5000);
    const std::string data = codec.encode("k", Serializer::kMsgpack, payload, test_metadata());
    EXPECT_EQ(static_cast<std::uint8_t>(data[5]), kFlagFields);
    const Result<Decoded> decoded = codec.decode("k", data);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded.value().payload, payload);
    EXPECT_EQ(decoded.value().metadata, test_metadata());
  }
}

TEST(FieldsEnvelope, AnyChangedByteOrOtherKeyIsTampered) {
  const Codec codec = fields_codec();
  const std::string data = codec.encode("k", Serializer::kMsgpack, "plain fields", test_metadata());
  EXPECT_EQ(codec.decode("other", data).error().code, ErrorCode::kTampered);
  for (std::size_t i = 12; i < data.size(); ++i) {  // metadata, payload and MAC
    std::string bad = data;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    const Result<Decoded> r = codec.decode("k", bad);
    ASSERT_FALSE(r.ok()) << i;
  }
  EXPECT_EQ(fields_codec('g').decode("k", data).error().code, ErrorCode::kTampered);
}

TEST(FieldsEnvelope, KeylessReadersReadItAndKeyedReadersRefusePlainOnes) {
  const Codec codec = fields_codec();
  const Codec keyless = make_codec(Compression::kLz4, Protection::kPlain);
  const std::string data = codec.encode("k", Serializer::kMsgpack, "payload", test_metadata());
  const Result<Decoded> read = keyless.decode("k", data);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read.value().payload, "payload");
  const std::string plain = keyless.encode("k", Serializer::kMsgpack, "payload", test_metadata());
  EXPECT_EQ(codec.decode("k", plain).error().code, ErrorCode::kTampered);
  // Signed and encrypted readers refuse it as well; it is not their mode.
  EXPECT_EQ(make_codec(Compression::kLz4, Protection::kSigned).decode("k", data).error().code,
            ErrorCode::kTampered);
  EXPECT_EQ(make_codec(Compression::kLz4, Protection::kEncrypted).decode("k", data).error().code,
            ErrorCode::kTampered);
  // A keyless reader still refuses an unauthenticated pickle behind the flag.
  CodecConfig pickler;
  pickler.signing_keys.add(1, test_key('s'));
  std::string pickled = Codec(pickler).encode("k", Serializer::kPickle, "x", {});
  pickled[5] = static_cast<char>(kFlagFields);
  EXPECT_EQ(keyless.decode("k", pickled).error().code, ErrorCode::kTampered);
}

TEST(FieldsEnvelope, TwoFlagsAtOnceAreCorrupt) {
  std::string data = fields_codec().encode("k", Serializer::kMsgpack, "x", {});
  for (const int flags : {kFlagFields | kFlagSigned, kFlagFields | kFlagEncrypted}) {
    data[5] = static_cast<char>(flags);
    EXPECT_EQ(fields_codec().decode("k", data).error().code, ErrorCode::kCorrupt);
  }
}

}  // namespace
}  // namespace stratacache::codec
