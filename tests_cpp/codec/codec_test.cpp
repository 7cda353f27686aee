#include "codec/codec.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "codec_test_support.hpp"

namespace stratacache::codec {
namespace {

using testing::from_hex;
using testing::make_codec;
using testing::Protection;
using testing::test_metadata;
using testing::text_payload;

std::string random_payload(std::size_t n) {
  std::mt19937 rng(11);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

class CodecCombination : public ::testing::TestWithParam<std::tuple<Compression, Protection>> {};

INSTANTIATE_TEST_SUITE_P(
    Every, CodecCombination,
    ::testing::Combine(::testing::Values(Compression::kNone, Compression::kLz4, Compression::kZstd),
                       ::testing::Values(Protection::kPlain, Protection::kSigned,
                                         Protection::kEncrypted)));

TEST_P(CodecCombination, RoundTripsEveryPayloadShape) {
  const auto [compression, protection] = GetParam();
  const Codec codec = make_codec(compression, protection);
  for (const std::string& payload :
       {std::string(), std::string("x"), text_payload(1023), text_payload(50'000),
        random_payload(5'000), std::string(1 << 20, '\0')}) {
    for (Serializer serializer : {Serializer::kMsgpack, Serializer::kJson}) {
      const std::string bytes = codec.encode("ns:key", serializer, payload, test_metadata());
      const Result<Decoded> decoded = codec.decode("ns:key", bytes);
      ASSERT_TRUE(decoded.ok()) << decoded.error().message;
      EXPECT_EQ(decoded.value().payload, payload);
      EXPECT_EQ(decoded.value().serializer, serializer);
      EXPECT_EQ(decoded.value().metadata, test_metadata());
      const bool packed =
          compression != Compression::kNone && payload.size() >= 1024 && payload.size() != 5'000;
      EXPECT_EQ(bytes[4], packed ? static_cast<char>(compression) : 0) << payload.size();
    }
  }
}

TEST_P(CodecCombination, EveryTruncationFailsCleanly) {
  const auto [compression, protection] = GetParam();
  const Codec codec = make_codec(compression, protection);
  const std::string bytes =
      codec.encode("k", Serializer::kMsgpack, text_payload(3000), test_metadata());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const Result<Decoded> decoded = codec.decode("k", std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(decoded.ok()) << n;
  }
}

class ProtectedCombination : public CodecCombination {};

INSTANTIATE_TEST_SUITE_P(
    Every, ProtectedCombination,
    ::testing::Combine(::testing::Values(Compression::kNone, Compression::kLz4, Compression::kZstd),
                       ::testing::Values(Protection::kSigned, Protection::kEncrypted)));

TEST_P(ProtectedCombination, RejectsEveryBitFlip) {
  const auto [compression, protection] = GetParam();
  const Codec codec = make_codec(compression, protection);
  const std::string bytes =
      codec.encode("k", Serializer::kMsgpack, text_payload(2000), test_metadata());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    const Result<Decoded> decoded = codec.decode("k", flipped);
    ASSERT_FALSE(decoded.ok()) << i;
    if (i >= kHeaderSize) {
      EXPECT_NE(decoded.error().code, ErrorCode::kTooLarge) << i;
    }
  }
}

TEST_P(ProtectedCombination, ValueMovedToAnotherKeyIsTampered) {
  const auto [compression, protection] = GetParam();
  const Codec codec = make_codec(compression, protection);
  const std::string bytes = codec.encode("user:1", Serializer::kJson, "{}", test_metadata());
  for (std::string_view other : {"user:2", "user:", "user:10", ""}) {
    const Result<Decoded> decoded = codec.decode(other, bytes);
    ASSERT_FALSE(decoded.ok()) << other;
    EXPECT_EQ(decoded.error().code, ErrorCode::kTampered) << other;
  }
}

TEST_P(ProtectedCombination, WrongKeyIsTampered) {
  const auto [compression, protection] = GetParam();
  const Codec writer = make_codec(compression, protection);
  const Codec reader = make_codec(compression, protection, 1 << 20, 1, 'w');
  const std::string bytes = writer.encode("k", Serializer::kMsgpack, "value", test_metadata());
  const Result<Decoded> decoded = reader.decode("k", bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kTampered);
}

TEST(Codec, DowngradesAreTampered) {
  const Codec plain = make_codec(Compression::kNone, Protection::kPlain);
  const Codec signer = make_codec(Compression::kNone, Protection::kSigned);
  const Codec sealer = make_codec(Compression::kNone, Protection::kEncrypted);
  const std::string unprotected = plain.encode("k", Serializer::kMsgpack, "v", {});
  const std::string signed_bytes = signer.encode("k", Serializer::kMsgpack, "v", {});
  const std::string sealed = sealer.encode("k", Serializer::kMsgpack, "v", {});
  EXPECT_EQ(signer.decode("k", unprotected).error().code, ErrorCode::kTampered);
  EXPECT_EQ(sealer.decode("k", unprotected).error().code, ErrorCode::kTampered);
  EXPECT_EQ(sealer.decode("k", signed_bytes).error().code, ErrorCode::kTampered);
  EXPECT_EQ(signer.decode("k", sealed).error().code, ErrorCode::kTampered);
  EXPECT_EQ(plain.decode("k", sealed).error().code, ErrorCode::kTampered);
}

TEST(Codec, PickleNeedsAuthentication) {
  const Codec plain = make_codec(Compression::kNone, Protection::kPlain);
  EXPECT_THROW(static_cast<void>(plain.encode("k", Serializer::kPickle, "p", {})), Error);
  std::string forged = plain.encode("k", Serializer::kMsgpack, "p", {});
  forged[3] = static_cast<char>(Serializer::kPickle);
  EXPECT_EQ(plain.decode("k", forged).error().code, ErrorCode::kTampered);
  const Codec signer = make_codec(Compression::kNone, Protection::kSigned);
  const Result<Decoded> ok = signer.decode("k", signer.encode("k", Serializer::kPickle, "p", {}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value().serializer, Serializer::kPickle);
}

TEST(Codec, OversizedValuesAreRefused) {
  const Codec small = make_codec(Compression::kZstd, Protection::kPlain, 1000);
  EXPECT_THROW(static_cast<void>(small.encode("k", Serializer::kMsgpack, text_payload(1001), {})),
               Error);
  // A zip bomb: 8 MiB of zeros compress to a few hundred bytes; the small reader refuses it
  // from the declared size alone.
  const Codec big = make_codec(Compression::kZstd, Protection::kPlain, std::size_t{16} << 20);
  const std::string bomb = big.encode("k", Serializer::kMsgpack, std::string(8 << 20, '\0'), {});
  ASSERT_LT(bomb.size(), 4096u);
  EXPECT_EQ(small.decode("k", bomb).error().code, ErrorCode::kTooLarge);
  // The same with the declared size forged down: the decompressor stops at the declared size.
  std::string forged = bomb;
  forged[8] = static_cast<char>(0xE8);  // 1000, little-endian
  forged[9] = 0x03;
  forged[10] = 0;
  forged[11] = 0;
  EXPECT_EQ(small.decode("k", forged).error().code, ErrorCode::kCorrupt);
  // And an uncompressed body longer than the limit.
  const Codec loose = make_codec(Compression::kNone, Protection::kPlain, 5000);
  EXPECT_EQ(
      small.decode("k", loose.encode("k", Serializer::kJson, text_payload(2000), {})).error().code,
      ErrorCode::kTooLarge);
}

TEST(Codec, KeyRotationReadsOldIdsAndWritesTheNewest) {
  const Codec old_codec = make_codec(Compression::kLz4, Protection::kEncrypted, 1 << 20, 1, 'a');
  const std::string old_bytes = old_codec.encode("k", Serializer::kMsgpack, "old", {});

  CodecConfig config;
  config.encryption_keys.add(1, testing::test_key('a'));
  config.encryption_keys.add(2, testing::test_key('b'));
  const Codec rotated(std::move(config));
  const Result<Decoded> old_value = rotated.decode("k", old_bytes);
  ASSERT_TRUE(old_value.ok()) << old_value.error().message;
  EXPECT_EQ(old_value.value().payload, "old");

  const std::string new_bytes = rotated.encode("k", Serializer::kMsgpack, "new", {});
  EXPECT_EQ(new_bytes[6], 2);
  EXPECT_EQ(new_bytes[7], 0);
  EXPECT_EQ(rotated.decode("k", new_bytes).value().payload, "new");
  // A reader that dropped key 1 no longer trusts values written with it.
  const Codec only_new = make_codec(Compression::kLz4, Protection::kEncrypted, 1 << 20, 2, 'b');
  EXPECT_EQ(only_new.decode("k", old_bytes).error().code, ErrorCode::kTampered);
  EXPECT_TRUE(only_new.decode("k", new_bytes).ok());
}

TEST(Codec, RandomNoncesMakeEveryCiphertextDifferent) {
  CodecConfig config;
  config.encryption_keys.add(1, testing::test_key('a'));
  const Codec codec(std::move(config));
  const std::string a = codec.encode("k", Serializer::kMsgpack, "same", {});
  const std::string b = codec.encode("k", Serializer::kMsgpack, "same", {});
  EXPECT_NE(a, b);
  EXPECT_EQ(codec.decode("k", b).value().payload, "same");
}

TEST(Codec, UnknownVersionFails) {
  const Codec codec = make_codec(Compression::kNone, Protection::kPlain);
  std::string bytes = codec.encode("k", Serializer::kMsgpack, "v", {});
  bytes[2] = 9;
  const Result<Decoded> decoded = codec.decode("k", bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnknownVersion);
}

TEST(Codec, RejectsImpossibleConfigs) {
  CodecConfig config;
  config.max_value_bytes = std::size_t{1} << 33;
  EXPECT_THROW(Codec{config}, Error);
}

// The read path counts every bad envelope by its reason and never sees an exception: one case
// per class of bad input, each under the codec that would read it.
TEST(Codec, EveryBadInputIsAReasonNotAThrow) {
  const Codec plain = make_codec(Compression::kNone, Protection::kPlain);
  const Codec signer = make_codec(Compression::kNone, Protection::kSigned);
  const Codec other_key = make_codec(Compression::kNone, Protection::kSigned, 1 << 20, 1, 'w');
  const Codec small = make_codec(Compression::kNone, Protection::kPlain, 100);
  const std::string v = plain.encode("k", Serializer::kMsgpack, "value", test_metadata());
  const std::string s = signer.encode("k", Serializer::kMsgpack, "value", test_metadata());
  std::string bad_magic = v;
  bad_magic[0] = 'X';
  std::string bad_version = v;
  bad_version[2] = 9;
  std::string bad_mac = s;
  bad_mac.back() = static_cast<char>(bad_mac.back() ^ 0x01);
  struct Case {
    const char* name;
    const Codec* reader;
    std::string_view key;
    std::string bytes;
    std::string_view reason;
  };
  const std::vector<Case> cases{
      {"empty", &plain, "k", "", "corrupt"},
      {"truncated", &plain, "k", v.substr(0, v.size() - 1), "corrupt"},
      {"bad magic", &plain, "k", bad_magic, "corrupt"},
      {"bad version", &plain, "k", bad_version, "unknown_version"},
      {"bad MAC", &signer, "k", bad_mac, "tampered"},
      {"wrong key binding", &signer, "other", s, "tampered"},
      {"wrong secret", &other_key, "k", s, "tampered"},
      {"unsigned under a signer", &signer, "k", v, "tampered"},
      {"oversize", &small, "k", plain.encode("k", Serializer::kMsgpack, text_payload(200), {}),
       "too_large"},
  };
  for (const Case& c : cases) {
    std::optional<Result<Decoded>> decoded;
    EXPECT_NO_THROW(decoded.emplace(c.reader->decode(c.key, c.bytes))) << c.name;
    ASSERT_TRUE(decoded.has_value()) << c.name;
    ASSERT_FALSE(decoded->ok()) << c.name;
    EXPECT_EQ(decode_failure_reason(decoded->error().code), c.reason) << c.name;
  }
}

TEST(Codec, CodesDecodeNeverReturnsHaveNoReason) {
  EXPECT_TRUE(decode_failure_reason(ErrorCode::kInvalidConfig).empty());
  EXPECT_TRUE(decode_failure_reason(ErrorCode::kIo).empty());
  EXPECT_EQ(decode_failure_reason(ErrorCode::kTooLarge), "too_large");
}

}  // namespace
}  // namespace stratacache::codec
