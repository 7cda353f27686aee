// Golden envelopes: bytes written by format version 1 with fixed keys and nonces. Future
// versions must keep decoding them; never regenerate them to make a test pass.
#include <gtest/gtest.h>

#include <string>

#include "codec/codec.hpp"
#include "codec_test_support.hpp"

namespace stratacache::codec {
namespace {

using testing::from_hex;
using testing::make_codec;
using testing::Protection;
using testing::test_metadata;
using testing::text_payload;
using testing::to_hex;

constexpr std::string_view kKey = "app:v1:product:42";
const std::string kMsgpackPayload("\x82\xa3sku\x2a\xa5price\xcb\x40\x09\x21\xf9\xf0\x1b\x86\x6e",
                                  21);
const std::string kJsonPayload = "{\"sku\":42}";

struct Golden {
  const char* name;
  Compression compression;
  Protection protection;
  std::string payload;
  bool encoder_stable;  ///< false when a compressor upgrade may change the bytes we write
  const char* hex;
};

const Golden kGoldens[] = {
    {"PlainUncompressed", Compression::kNone, Protection::kPlain, kMsgpackPayload, true,
     "53430102000000001500000000dc207497010000e093040000000000d204000000000000020775736572"
     "3a3432030000000000000007636174616c6f67110000000000000082a3736b752aa57072696365cb4009"
     "21f9f01b866e"},
    {"SignedUncompressed", Compression::kNone, Protection::kSigned, kJsonPayload, true,
     "53430102000201000a00000000dc207497010000e093040000000000d204000000000000020775736572"
     "3a3432030000000000000007636174616c6f6711000000000000007b22736b75223a34327d9b8e6c6671"
     "8801b2bceaa594729dd3b03759956d12098d5dd5bb1f955199b2e8"},
    {"EncryptedUncompressed", Compression::kNone, Protection::kEncrypted, kJsonPayload, true,
     "53430102000101000a00000000dc207497010000e093040000000000d204000000000000020775736572"
     "3a3432030000000000000007636174616c6f671100000000000000000102030405060708090a0b11ff87"
     "4571f2bc4171e63895e058d40504d5d0716965e38eccd4"},
    {"EncryptedLz4", Compression::kLz4, Protection::kEncrypted, text_payload(1500), false,
     "5343010201010100dc05000000dc207497010000e093040000000000d204000000000000020775736572"
     "3a3432030000000000000007636174616c6f671100000000000000000102030405060708090a0b99d78f"
     "0c77bbf35779ab7fa80dab572b8c81d90fbe5ce8f7da1994bcf005a61db73836c9a3140310f1fc464da4"
     "4f7ad021d4bb969e6b6d2af9706aca9fd54ebbc1f00dbe5b1af98a24b2def11f5a141305e3d228c559bd"
     "d3058c1f4db3053b2ba0bb094c281007a416999d84165363fb5dd1ea6ac9fcf424798b34069bd70840b0"
     "648c435b8204519268a75cec"},
    {"SignedZstd", Compression::kZstd, Protection::kSigned, text_payload(1500), false,
     "5343010202020100dc05000000dc207497010000e093040000000000d204000000000000020775736572"
     "3a3432030000000000000007636174616c6f67110000000000000028b52ffd60dc04ed020024037b2273"
     "6b75223a302c22696e5f73746f636b223a747275657d3235353137373633353833313233383634393031"
     "39343537311100351cee0f6a580000310031003100310031003100714f10c1c26011288017801880b827"
     "c0b13bc72c7fa796a5bcb168def1dab90f1d3c7395860b6cd9a072c11573b6e8af7eddb0"},
};

TEST(GoldenEnvelope, TodaysBytesStillDecode) {
  for (const Golden& golden : kGoldens) {
    const Codec codec = make_codec(golden.compression, golden.protection);
    const Result<Decoded> decoded = codec.decode(kKey, from_hex(golden.hex));
    ASSERT_TRUE(decoded.ok()) << golden.name << ": " << decoded.error().message;
    EXPECT_EQ(decoded.value().serializer, Serializer::kJson) << golden.name;
    EXPECT_EQ(decoded.value().metadata, test_metadata()) << golden.name;
    EXPECT_EQ(decoded.value().payload, golden.payload) << golden.name;
  }
}

TEST(GoldenEnvelope, EncoderWritesTheSameBytes) {
  for (const Golden& golden : kGoldens) {
    if (!golden.encoder_stable) continue;
    const Codec codec = make_codec(golden.compression, golden.protection);
    EXPECT_EQ(to_hex(codec.encode(kKey, Serializer::kJson, golden.payload, test_metadata())),
              golden.hex)
        << golden.name;
  }
}

}  // namespace
}  // namespace stratacache::codec
