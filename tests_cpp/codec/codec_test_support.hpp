// Shared fixtures of the codec tests: fixed keys, a fixed nonce and codecs of every kind.
#pragma once

#include <string>
#include <string_view>

#include "codec/codec.hpp"

namespace stratacache::codec::testing {

/// How a test codec protects values.
enum class Protection { kPlain, kSigned, kEncrypted, kFields };

inline SecretKey test_key(char fill) { return SecretKey(std::string(kKeyBytes, fill)); }

/// A codec whose nonces are always 00 01 .. 0b, so its envelopes are reproducible.
inline Codec make_codec(Compression compression, Protection protection,
                        std::size_t max_value_bytes = std::size_t{1} << 20,
                        std::uint16_t key_id = 1, char key_fill = 'k') {
  CodecConfig config;
  config.compression.algorithm = compression;
  config.max_value_bytes = max_value_bytes;
  config.nonce_source = [](Nonce& nonce) {
    for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<std::uint8_t>(i);
  };
  if (protection == Protection::kEncrypted) config.encryption_keys.add(key_id, test_key(key_fill));
  if (protection == Protection::kSigned) config.signing_keys.add(key_id, test_key(key_fill));
  if (protection == Protection::kFields) config.field_keys.add(key_id, test_key(key_fill));
  return Codec(std::move(config));
}

inline Metadata test_metadata() {
  return Metadata{.created_at_ms = 1'750'000'000'000,
                  .ttl_ms = 300'000,
                  .compute_us = 1'234,
                  .tags = {{"user:42", 3}, {"catalog", 17}}};
}

/// A payload that compresses well (JSON-like text) of `n` bytes.
inline std::string text_payload(std::size_t n) {
  std::string s;
  while (s.size() < n) s += "{\"sku\":" + std::to_string(s.size() % 97) + ",\"in_stock\":true}";
  s.resize(n);
  return s;
}

inline std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  return s;
}

inline std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string s;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    s += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
  }
  return s;
}

}  // namespace stratacache::codec::testing
