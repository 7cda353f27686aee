#include "codec/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <string>

namespace stratacache::codec {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const noexcept { EVP_KDF_CTX_free(c); }
};
struct KdfFree {
  void operator()(EVP_KDF* k) const noexcept { EVP_KDF_free(k); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* bytes(std::string_view s) noexcept {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int int_size(std::string_view s) {
  if (s.size() > static_cast<std::size_t>(INT_MAX)) {
    throw Error(ErrorCode::kTooLarge, "crypto: input above 2 GiB");
  }
  return static_cast<int>(s.size());
}

[[noreturn]] void openssl_failure(const char* what) {
  // Never includes key bytes: only the name of the step that failed.
  throw Error(ErrorCode::kInvalidConfig, std::string("crypto: OpenSSL failed in ") + what);
}

// EVP_aes_256_gcm() is a legacy handle that OpenSSL 3 resolves to its provider's cipher on
// every init (a locked lookup): fetched once per process instead, as hmac_algorithm() does.
const EVP_CIPHER* gcm_algorithm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) openssl_failure("EVP_CIPHER_fetch");
  return cipher;
}

CipherCtx gcm_context(const SecretKey& key, const Nonce& nonce, bool encrypt) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) openssl_failure("EVP_CIPHER_CTX_new");
  if (EVP_CipherInit_ex(ctx.get(), gcm_algorithm(), nullptr, key.data(), nonce.data(),
                        encrypt ? 1 : 0) != 1) {
    openssl_failure("EVP_CipherInit_ex");
  }
  return ctx;
}

bool add_aad(EVP_CIPHER_CTX* ctx, std::span<const std::string_view> aad) {
  for (std::string_view part : aad) {
    int len = 0;
    if (!part.empty() && EVP_CipherUpdate(ctx, nullptr, &len, bytes(part), int_size(part)) != 1) {
      return false;
    }
  }
  return true;
}

// Fetching the HMAC implementation is costly; do it once per process.
EVP_MAC* hmac_algorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) openssl_failure("EVP_MAC_fetch");
  return mac;
}

}  // namespace

SecretKey::SecretKey(std::string_view raw) {
  if (raw.size() != kKeyBytes) {
    throw Error(ErrorCode::kInvalidConfig,
                "crypto: a raw key must be 32 bytes, got " + std::to_string(raw.size()));
  }
  std::copy(raw.begin(), raw.end(), reinterpret_cast<char*>(bytes_.data()));
}

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

SecretKey SecretKey::from_passphrase(std::string_view passphrase, std::string_view salt,
                                     std::uint32_t iterations) {
  if (iterations == 0 || iterations > static_cast<std::uint32_t>(INT_MAX)) {
    throw Error(ErrorCode::kInvalidConfig, "crypto: PBKDF2 iterations out of range");
  }
  SecretKey key;
  if (PKCS5_PBKDF2_HMAC(passphrase.data(), int_size(passphrase), bytes(salt), int_size(salt),
                        static_cast<int>(iterations), EVP_sha256(), kKeyBytes,
                        key.bytes_.data()) != 1) {
    openssl_failure("PKCS5_PBKDF2_HMAC");
  }
  return key;
}

SecretKey SecretKey::from_hkdf(std::string_view ikm, std::string_view salt, std::string_view info) {
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) openssl_failure("EVP_KDF_fetch");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) openssl_failure("EVP_KDF_CTX_new");
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()),
                                        ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end()};
  SecretKey key;
  if (EVP_KDF_derive(ctx.get(), key.bytes_.data(), kKeyBytes, params) != 1) {
    openssl_failure("EVP_KDF_derive");
  }
  return key;
}

void Keyring::add(std::uint16_t id, SecretKey key) {
  if (find(id) != nullptr) {
    throw Error(ErrorCode::kInvalidConfig, "crypto: duplicate key id " + std::to_string(id));
  }
  keys_.emplace_back(id, std::move(key));
}

const SecretKey* Keyring::find(std::uint16_t id) const noexcept {
  for (const auto& [key_id, key] : keys_) {
    if (key_id == id) return &key;
  }
  return nullptr;
}

Keyring Keyring::derived(std::string_view info) const {
  Keyring out;
  for (const auto& [id, key] : keys_) {
    const std::string_view raw(reinterpret_cast<const char*>(key.data()), kKeyBytes);
    // A non-empty salt: OpenSSL refuses a null octet string.
    out.add(id, SecretKey::from_hkdf(raw, "stratacache keyring", info));
  }
  return out;
}

void random_nonce(Nonce& nonce) {
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) openssl_failure("RAND_bytes");
}

void seal(const SecretKey& key, const Nonce& nonce, std::span<const std::string_view> aad,
          std::string_view plaintext, std::string& out) {
  CipherCtx ctx = gcm_context(key, nonce, true);
  if (!add_aad(ctx.get(), aad)) openssl_failure("EVP_CipherUpdate(aad)");
  const std::size_t start = out.size();
  out.resize(start + plaintext.size() + kGcmTagBytes);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + start);
  int len = 0;
  if (!plaintext.empty() &&
      EVP_CipherUpdate(ctx.get(), dst, &len, bytes(plaintext), int_size(plaintext)) != 1) {
    openssl_failure("EVP_CipherUpdate");
  }
  int final_len = 0;
  if (EVP_CipherFinal_ex(ctx.get(), dst + len, &final_len) != 1) openssl_failure("EVP_CipherFinal");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes),
                          dst + plaintext.size()) != 1) {
    openssl_failure("EVP_CTRL_GCM_GET_TAG");
  }
}

Result<std::string> open(const SecretKey& key, const Nonce& nonce,
                         std::span<const std::string_view> aad, std::string_view sealed) {
  if (sealed.size() < kGcmTagBytes) return fail(ErrorCode::kCorrupt, "crypto: truncated cipher");
  const std::string_view cipher = sealed.substr(0, sealed.size() - kGcmTagBytes);
  std::string tag(sealed.substr(cipher.size()));
  CipherCtx ctx = gcm_context(key, nonce, false);
  std::string plain(cipher.size(), '\0');
  auto* dst = reinterpret_cast<unsigned char*>(plain.data());
  int len = 0;
  int final_len = 0;
  const bool ok = add_aad(ctx.get(), aad) &&
                  (cipher.empty() ||
                   EVP_CipherUpdate(ctx.get(), dst, &len, bytes(cipher), int_size(cipher)) == 1) &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG,
                                      static_cast<int>(kGcmTagBytes), tag.data()) == 1 &&
                  EVP_CipherFinal_ex(ctx.get(), dst + len, &final_len) == 1;
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return fail(ErrorCode::kTampered, "crypto: authentication failed");
  }
  return plain;
}

std::array<std::uint8_t, kMacBytes> hmac_sha256(const SecretKey& key,
                                                std::span<const std::string_view> parts) {
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(hmac_algorithm()));
  if (!ctx) openssl_failure("EVP_MAC_CTX_new");
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), key.data(), kKeyBytes, params) != 1) openssl_failure("EVP_MAC_init");
  for (std::string_view part : parts) {
    if (EVP_MAC_update(ctx.get(), bytes(part), part.size()) != 1) openssl_failure("EVP_MAC_update");
  }
  std::array<std::uint8_t, kMacBytes> mac{};
  std::size_t len = 0;
  if (EVP_MAC_final(ctx.get(), mac.data(), &len, mac.size()) != 1 || len != kMacBytes) {
    openssl_failure("EVP_MAC_final");
  }
  return mac;
}

std::uint16_t key_fingerprint(const SecretKey& key) {
  static constexpr std::string_view kLabel = "stratacache key id v1";
  const std::array<std::string_view, 1> parts{kLabel};
  const auto mac = hmac_sha256(key, parts);
  return static_cast<std::uint16_t>(mac[0] | (mac[1] << 8));
}

bool mac_equal(const std::array<std::uint8_t, kMacBytes>& mac, std::string_view stored) noexcept {
  return stored.size() == kMacBytes && CRYPTO_memcmp(mac.data(), stored.data(), kMacBytes) == 0;
}

}  // namespace stratacache::codec
