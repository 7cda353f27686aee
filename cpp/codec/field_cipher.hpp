// Per-field encryption: one value inside a payload sealed on its own (AES-256-GCM), so the rest
// of the value stays readable without the key. The associated data binds the cache key and the
// field's path in the value (every dict key and list index from the top, the field name last),
// so a sealed field copied to another key, another field or another record does not open. The
// rest of the envelope is authenticated separately (kFlagFields, codec/envelope.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "codec/crypto.hpp"
#include "common/result.hpp"

namespace stratacache::codec {

/// A sealed field is: key id u16 little-endian | nonce | ciphertext | GCM tag.
inline constexpr std::size_t kSealedFieldOverhead = 2 + kNonceBytes + kGcmTagBytes;

/// Appends the sealed form of `plaintext` to `out`, under the keyring's newest key; `keys` must
/// not be empty.
void seal_field(const Keyring& keys, const NonceSource& nonces, std::string_view cache_key,
                std::string_view path, std::string_view plaintext, std::string& out);

/// The key id a sealed field names, or nullopt when it is too short to be one.
[[nodiscard]] std::optional<std::uint16_t> sealed_field_key_id(std::string_view sealed) noexcept;

/// Opens a sealed field: kCorrupt when truncated, kTampered on an unknown key id or when
/// authentication fails (wrong key, other cache key or path, modified bytes). `path` is opaque
/// here: the serializer encodes it, identically on both sides.
[[nodiscard]] Result<std::string> open_field(const Keyring& keys, std::string_view cache_key,
                                             std::string_view path, std::string_view sealed);

}  // namespace stratacache::codec
