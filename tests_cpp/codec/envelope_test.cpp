#include "codec/envelope.hpp"

#include <gtest/gtest.h>

#include <string>

namespace stratacache::codec {
namespace {

Metadata sample_metadata() {
  return Metadata{.created_at_ms = 1'700'000'000'123,
                  .ttl_ms = 60'000,
                  .compute_us = 2'500,
                  .tags = {{"user:42", 7}, {"", 0}, {std::string(255, 't'), ~0ULL}}};
}

std::string sample_prefix(Header header = Header{.payload_size = 5}) {
  std::string out;
  write_prefix(header, sample_metadata(), out);
  return out;
}

TEST(Envelope, PrefixRoundTrips) {
  const Header header{.serializer = Serializer::kJson,
                      .compression = Compression::kZstd,
                      .flags = kFlagSigned,
                      .key_id = 513,
                      .payload_size = 99};
  const std::string bytes = sample_prefix(header) + "body";
  const Result<EnvelopeView> view = parse_envelope(bytes, 100);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(view.value().header, header);
  EXPECT_EQ(view.value().metadata, sample_metadata());
  EXPECT_EQ(view.value().body, "body");
  EXPECT_EQ(view.value().prefix.size(), bytes.size() - 4);
}

TEST(Envelope, HeaderIsLittleEndian) {
  const std::string bytes = sample_prefix(Header{.serializer = Serializer::kPickle,
                                                 .compression = Compression::kLz4,
                                                 .flags = kFlagEncrypted,
                                                 .key_id = 0x0102,
                                                 .payload_size = 0x03040506});
  const std::string expected("SC\x01\x03\x01\x01\x02\x01\x06\x05\x04\x03", kHeaderSize);
  EXPECT_EQ(bytes.substr(0, kHeaderSize), expected);
}

TEST(Envelope, EveryTruncationIsCorrupt) {
  const std::string bytes = sample_prefix();
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const Result<EnvelopeView> view = parse_envelope(bytes.substr(0, n), 100);
    ASSERT_FALSE(view.ok()) << n;
    EXPECT_EQ(view.error().code, ErrorCode::kCorrupt) << n;
  }
}

TEST(Envelope, UnknownVersionIsRefused) {
  std::string bytes = sample_prefix();
  bytes[2] = 2;
  const Result<EnvelopeView> view = parse_envelope(bytes, 100);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error().code, ErrorCode::kUnknownVersion);
  EXPECT_NE(view.error().message.find("version 2"), std::string::npos);
}

TEST(Envelope, UnknownVersionNeedsOnlyMagicAndVersion) {
  // A later version may lay out the rest differently, so nothing after the version byte counts.
  for (const std::string& bytes : {std::string("SC\x07", 3), std::string("SC\x00garbage", 10)}) {
    const Result<EnvelopeView> view = parse_envelope(bytes, 100);
    ASSERT_FALSE(view.ok());
    EXPECT_EQ(view.error().code, ErrorCode::kUnknownVersion);
  }
  EXPECT_EQ(parse_envelope(std::string("XC\x07", 3), 100).error().code, ErrorCode::kCorrupt);
}

TEST(Envelope, MalformedHeaderFieldsAreCorrupt) {
  const std::string good = sample_prefix();
  for (const auto& [offset, byte] : std::initializer_list<std::pair<std::size_t, char>>{
           {0, 'X'}, {1, 'X'}, {3, 0}, {3, 4}, {4, 3}, {5, 3}, {5, 6}, {5, 8}}) {
    std::string bytes = good;
    bytes[offset] = byte;
    const Result<EnvelopeView> view = parse_envelope(bytes, 100);
    ASSERT_FALSE(view.ok()) << offset;
    EXPECT_EQ(view.error().code, ErrorCode::kCorrupt) << offset;
  }
}

TEST(Envelope, TooManyTagsAreCorrupt) {
  std::string bytes = sample_prefix();
  bytes[kHeaderSize + 24] = static_cast<char>(kMaxTags + 1);
  const Result<EnvelopeView> view = parse_envelope(bytes, 100);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error().code, ErrorCode::kCorrupt);
}

TEST(Envelope, TagNamesThatAreNotUtf8AreCorrupt) {
  // Tag names become Python str: a stray byte, an overlong form, a surrogate or a code point
  // past U+10FFFF must be a corrupt envelope, not an error at conversion.
  const std::string bad[] = {"\xff",    "a\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                             "\xe2\x82"};
  for (const std::string& name : bad) {
    Metadata m{.created_at_ms = 1, .ttl_ms = 0, .compute_us = 0, .tags = {{name, 1}}};
    std::string bytes;
    write_prefix(Header{.payload_size = 0}, m, bytes);
    const Result<EnvelopeView> view = parse_envelope(bytes, 100);
    ASSERT_FALSE(view.ok()) << "accepted a tag of " << name.size() << " bytes";
    EXPECT_EQ(view.error().code, ErrorCode::kCorrupt);
  }
  Metadata good{.created_at_ms = 1,
                .ttl_ms = 0,
                .compute_us = 0,
                .tags = {{"caf\xc3\xa9 \xf0\x9f\x98\x80", 1}}};
  std::string bytes;
  write_prefix(Header{.payload_size = 0}, good, bytes);
  EXPECT_TRUE(parse_envelope(bytes, 100).ok());
}

TEST(Envelope, DeclaredPayloadAboveLimitIsTooLarge) {
  const std::string bytes = sample_prefix(Header{.payload_size = 0xFFFFFFFF});
  const Result<EnvelopeView> view = parse_envelope(bytes, 1 << 20);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error().code, ErrorCode::kTooLarge);
}

TEST(Envelope, WriteRefusesUnboundedTags) {
  std::string out;
  Metadata many;
  many.tags.resize(kMaxTags + 1);
  EXPECT_THROW(write_prefix(Header{}, many, out), Error);
  Metadata long_tag{.tags = {{std::string(kMaxTagBytes + 1, 'x'), 1}}};
  EXPECT_THROW(write_prefix(Header{}, long_tag, out), Error);
}

}  // namespace
}  // namespace stratacache::codec
