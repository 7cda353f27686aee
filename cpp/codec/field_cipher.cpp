#include "codec/field_cipher.hpp"

#include <algorithm>
#include <array>

namespace stratacache::codec {
namespace {

// Domain separation from whole-envelope AAD, then the key's length so that no (key, path)
// split can be shifted into another with the same associated data. v1 bound the field name
// only; its fields do not open under v2.
constexpr std::string_view kFieldLabel = "stratacache field v2";

std::array<char, 4> le32(std::size_t n) {
  const auto v = static_cast<std::uint32_t>(n);
  return {static_cast<char>(v & 0xFFU), static_cast<char>((v >> 8) & 0xFFU),
          static_cast<char>((v >> 16) & 0xFFU), static_cast<char>((v >> 24) & 0xFFU)};
}

}  // namespace

void seal_field(const Keyring& keys, const NonceSource& nonces, std::string_view cache_key,
                std::string_view path, std::string_view plaintext, std::string& out) {
  const std::uint16_t id = keys.newest_id();
  out.push_back(static_cast<char>(id & 0xFFU));
  out.push_back(static_cast<char>(id >> 8));
  Nonce nonce{};
  if (nonces) {
    nonces(nonce);
  } else {
    random_nonce(nonce);
  }
  out.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  const std::array<char, 4> key_len = le32(cache_key.size());
  const std::array<std::string_view, 4> aad{kFieldLabel, std::string_view(key_len.data(), 4),
                                            cache_key, path};
  seal(keys.newest(), nonce, aad, plaintext, out);
}

std::optional<std::uint16_t> sealed_field_key_id(std::string_view sealed) noexcept {
  if (sealed.size() < kSealedFieldOverhead) return std::nullopt;
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(sealed[0]) |
                                    (static_cast<std::uint8_t>(sealed[1]) << 8));
}

Result<std::string> open_field(const Keyring& keys, std::string_view cache_key,
                               std::string_view path, std::string_view sealed) {
  const std::optional<std::uint16_t> id = sealed_field_key_id(sealed);
  if (!id) return fail(ErrorCode::kCorrupt, "codec: truncated encrypted field");
  const SecretKey* key = keys.find(*id);
  if (key == nullptr) return fail(ErrorCode::kTampered, "codec: unknown field key id");
  Nonce nonce{};
  std::copy_n(sealed.begin() + 2, kNonceBytes, reinterpret_cast<char*>(nonce.data()));
  const std::array<char, 4> key_len = le32(cache_key.size());
  const std::array<std::string_view, 4> aad{kFieldLabel, std::string_view(key_len.data(), 4),
                                            cache_key, path};
  return open(*key, nonce, aad, sealed.substr(2 + kNonceBytes));
}

}  // namespace stratacache::codec
