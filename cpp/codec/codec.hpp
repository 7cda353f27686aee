// The codec: serialized payload and metadata in, envelope bytes out, and back. Values are
// compressed first, then encrypted (AES-256-GCM) or signed (HMAC-SHA256), bound to their key.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "codec/compression.hpp"
#include "codec/crypto.hpp"
#include "codec/decode_limits.hpp"
#include "codec/envelope.hpp"
#include "common/result.hpp"

namespace stratacache::codec {

/// How a Codec writes values and what it accepts when reading them.
struct CodecConfig {
  CompressionOptions compression;
  /// When not empty, every value is encrypted with the newest key and only encrypted
  /// envelopes are accepted.
  Keyring encryption_keys;
  /// Used when encryption is off: every value is signed with the newest key and only signed
  /// envelopes are accepted.
  Keyring signing_keys;
  /// The keys of sealed fields (codec/field_cipher.hpp), when neither keyring above is set:
  /// every envelope is then authenticated under a key derived from the newest one
  /// (kFlagFields), and only such envelopes are accepted. A codec without any key reads
  /// kFlagFields envelopes without verifying them, as it cannot.
  Keyring field_keys;
  /// Largest payload encoded or decoded, before and after compression; at most 4 GiB - 1.
  std::size_t max_value_bytes = std::size_t{64} << 20;
  /// What decoding a value may build (msgpack walk, JSON pre-scan); a zero max_items or
  /// max_bytes is replaced by DecodeLimits::derived(max_value_bytes, max_depth).
  DecodeLimits limits;
  /// Where nonces come from; empty means random_nonce. Tests inject a fixed source.
  NonceSource nonce_source;
};

/// A decoded envelope.
struct Decoded {
  Serializer serializer = Serializer::kMsgpack;
  Metadata metadata;
  std::string payload;
};

/// Why `Codec::decode` found no usable value, as a caller counts and logs it: "corrupt",
/// "unknown_version", "tampered" or "too_large"; empty for a code decode never returns, which
/// a caller must treat as a bug rather than as bad bytes.
[[nodiscard]] std::string_view decode_failure_reason(ErrorCode code) noexcept;

/// Encodes and decodes envelopes; immutable after construction, so safe to share across threads
/// (provided the nonce source is).
class Codec {
 public:
  /// Throws Error(kInvalidConfig) on an impossible configuration.
  explicit Codec(CodecConfig config);

  /// The envelope of `payload` stored under `key`. Throws Error(kTooLarge) when the payload
  /// exceeds max_value_bytes, a JSON payload the decode limits, or the tags their bounds, and
  /// Error(kInvalidConfig) for pickle without a key, since unpickling unauthenticated bytes runs
  /// code.
  [[nodiscard]] std::string encode(std::string_view key, Serializer serializer,
                                   std::string_view payload, const Metadata& metadata) const;

  /// Reads an envelope stored under `key`. Fails with kCorrupt (malformed), kUnknownVersion,
  /// kTampered (authentication failed, wrong key or key id, value moved from another key,
  /// missing protection) or kTooLarge (also a JSON payload past the decode limits); never reads
  /// out of bounds or allocates past the limit. Never throws for any bytes: hostile, foreign
  /// or corrupt input is a failed Result (see decode_failure_reason).
  [[nodiscard]] Result<Decoded> decode(std::string_view key, std::string_view bytes) const;

  [[nodiscard]] const CodecConfig& config() const noexcept { return config_; }

 private:
  void protect(std::string_view key, std::string_view body, std::string& out) const;
  [[nodiscard]] Result<std::string> unprotect(std::string_view key, const EnvelopeView& view) const;

  CodecConfig config_;
  Keyring field_macs_;  ///< config_.field_keys derived for the whole-envelope MAC
};

}  // namespace stratacache::codec
