// Confidentiality and integrity for envelopes (OpenSSL EVP): AES-256-GCM, HMAC-SHA256, key
// derivation and a keyring for rotation. Key bytes never reach a message and are wiped on free.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace stratacache::codec {

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kNonceBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;
inline constexpr std::size_t kMacBytes = 32;
inline constexpr std::uint32_t kDefaultPbkdf2Iterations = 200'000;

using Nonce = std::array<std::uint8_t, kNonceBytes>;
/// Fills a nonce; the default draws from RAND_bytes, tests inject a fixed one.
using NonceSource = std::function<void(Nonce&)>;

/// A 256-bit key; copies are independent and every copy is wiped with OPENSSL_cleanse.
class SecretKey {
 public:
  /// Takes exactly 32 raw bytes; throws Error(kInvalidConfig) otherwise.
  explicit SecretKey(std::string_view raw);
  /// PBKDF2-HMAC-SHA256 of a passphrase; throws Error(kInvalidConfig) on a bad argument.
  static SecretKey from_passphrase(std::string_view passphrase, std::string_view salt,
                                   std::uint32_t iterations = kDefaultPbkdf2Iterations);
  /// HKDF-SHA256 (extract and expand) of high-entropy input key material.
  static SecretKey from_hkdf(std::string_view ikm, std::string_view salt, std::string_view info);

  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  /// The raw bytes, for the cipher calls only.
  [[nodiscard]] const std::uint8_t* data() const noexcept { return bytes_.data(); }

 private:
  SecretKey() = default;
  std::array<std::uint8_t, kKeyBytes> bytes_{};
};

/// Keys by id: the newest (last added) writes, any of them reads.
class Keyring {
 public:
  /// Adds `key` under `id` and makes it the newest; throws Error(kInvalidConfig) on a
  /// duplicate id.
  void add(std::uint16_t id, SecretKey key);
  [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }
  /// The id new values are written with; only valid when not empty.
  [[nodiscard]] std::uint16_t newest_id() const noexcept { return keys_.back().first; }
  [[nodiscard]] const SecretKey& newest() const noexcept { return keys_.back().second; }
  /// The key named by an envelope, or nullptr.
  [[nodiscard]] const SecretKey* find(std::uint16_t id) const noexcept;
  /// The same ids, each key replaced by HKDF-SHA256(key, info): independent keys for another
  /// purpose (a MAC key from an encryption key), in the same order.
  [[nodiscard]] Keyring derived(std::string_view info) const;

 private:
  std::vector<std::pair<std::uint16_t, SecretKey>> keys_;
};

/// The default NonceSource: 96 random bits from OpenSSL's CSPRNG (throws if it fails).
void random_nonce(Nonce& nonce);

/// Appends ciphertext and the 16-byte GCM tag of `plaintext` to `out`. The associated data is
/// the concatenation of `aad` parts, authenticated but not encrypted; they are read before `out`
/// grows, so they may view `out` itself. `plaintext` must not.
void seal(const SecretKey& key, const Nonce& nonce, std::span<const std::string_view> aad,
          std::string_view plaintext, std::string& out);

/// Opens `sealed` (ciphertext then tag); any mismatch of key, nonce, aad or bytes is kTampered.
[[nodiscard]] Result<std::string> open(const SecretKey& key, const Nonce& nonce,
                                       std::span<const std::string_view> aad,
                                       std::string_view sealed);

/// HMAC-SHA256 over the concatenation of `parts`.
[[nodiscard]] std::array<std::uint8_t, kMacBytes> hmac_sha256(
    const SecretKey& key, std::span<const std::string_view> parts);

/// A 16-bit id derived from the key (HMAC of a fixed label), so a keyring built from a list of
/// keys gives each key the same id whatever its position; reveals nothing usable about the key.
[[nodiscard]] std::uint16_t key_fingerprint(const SecretKey& key);

/// Constant-time comparison of a computed MAC with the stored bytes.
[[nodiscard]] bool mac_equal(const std::array<std::uint8_t, kMacBytes>& mac,
                             std::string_view stored) noexcept;

}  // namespace stratacache::codec
