// The codec turns serialized payloads into the bytes stored in L2 and L3 and back. This file is
// the envelope's layout: a fixed header, bounded metadata, then the (protected) body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace stratacache::codec {

/// Which serializer wrote the payload, so a reader never guesses.
enum class Serializer : std::uint8_t { kMsgpack = 1, kJson = 2, kPickle = 3 };

/// How the body was compressed.
enum class Compression : std::uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };

/// Header flag bits; at most one is set.
inline constexpr std::uint8_t kFlagEncrypted = 0x01;
inline constexpr std::uint8_t kFlagSigned = 0x02;
/// The payload holds sealed fields (codec/field_cipher.hpp) and the body ends with an
/// HMAC-SHA256 under a key derived from the field key, over key, header, metadata and body.
/// Readers holding field keys verify it; readers without keys cannot, and read the plaintext
/// fields. Envelopes of this mode written before the flag existed (flags 0, nothing but the
/// sealed fields authenticated) are refused by readers holding field keys.
inline constexpr std::uint8_t kFlagFields = 0x04;

/// The envelope format version this build writes (and the only one it reads so far).
inline constexpr std::uint8_t kFormatVersion = 1;
/// Bytes of the fixed header.
inline constexpr std::size_t kHeaderSize = 12;
/// Bounds of the tag list, so metadata stays small and its parse cheap.
inline constexpr std::size_t kMaxTags = 64;
inline constexpr std::size_t kMaxTagBytes = 255;

/// One tag and the version it had when the value was written.
struct TagVersion {
  std::string tag;
  std::uint64_t version = 0;
  bool operator==(const TagVersion&) const = default;
};

/// What the cache needs to know about a value without deserializing it.
struct Metadata {
  std::int64_t created_at_ms = 0;  ///< unix time in milliseconds
  std::uint64_t ttl_ms = 0;        ///< 0 means no expiry
  std::uint64_t compute_us = 0;    ///< loader time, for XFetch early refresh
  std::vector<TagVersion> tags;    ///< at most kMaxTags
  bool operator==(const Metadata&) const = default;
};

/// The fixed 12-byte header, all integers little-endian:
/// magic "SC" | version u8 | serializer u8 | compression u8 | flags u8 | key id u16 |
/// payload size u32 (the serialized payload's size before compression).
struct Header {
  std::uint8_t version = kFormatVersion;
  Serializer serializer = Serializer::kMsgpack;
  Compression compression = Compression::kNone;
  std::uint8_t flags = 0;
  std::uint16_t key_id = 0;
  std::uint32_t payload_size = 0;
  bool operator==(const Header&) const = default;
};

/// A parsed envelope; the views point into the caller's bytes.
struct EnvelopeView {
  Header header;
  Metadata metadata;
  std::string_view prefix;  ///< header and metadata bytes, authenticated with the body
  std::string_view body;    ///< everything after the metadata (nonce, ciphertext, MAC...)
};

/// Appends header and metadata to `out`; throws Error(kTooLarge) if the tags exceed the bounds.
void write_prefix(const Header& header, const Metadata& metadata, std::string& out);

/// Parses header and metadata without trusting any length: never reads past `bytes`, never
/// allocates more than the tag bounds allow. Fails with kCorrupt (malformed), kUnknownVersion
/// (right magic, a version other than kFormatVersion) or kTooLarge (declared payload above
/// `max_value_bytes`).
[[nodiscard]] Result<EnvelopeView> parse_envelope(std::string_view bytes,
                                                  std::size_t max_value_bytes);

}  // namespace stratacache::codec
