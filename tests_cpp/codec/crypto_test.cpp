#include "codec/crypto.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace stratacache::codec {
namespace {

std::string hex(const std::uint8_t* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

TEST(Crypto, Pbkdf2MatchesRfc7914) {
  const SecretKey key = SecretKey::from_passphrase("passwd", "salt", 1);
  EXPECT_EQ(hex(key.data(), kKeyBytes),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
}

TEST(Crypto, HkdfMatchesRfc5869) {
  const std::string ikm(22, '\x0b');
  const std::string salt("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 13);
  const std::string info("\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9", 10);
  const SecretKey key = SecretKey::from_hkdf(ikm, salt, info);
  EXPECT_EQ(hex(key.data(), kKeyBytes),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
}

TEST(Crypto, RawKeyMustBe32BytesAndStaysOutOfMessages) {
  const std::string secret = "hunter2-hunter2-hunter2-hunter2";  // 31 bytes
  try {
    SecretKey key(secret);
    FAIL() << "accepted a 31-byte key";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
  }
  EXPECT_THROW(SecretKey::from_passphrase("p", "s", 0), Error);
}

TEST(Crypto, SealOpensOnlyWithTheSameKeyNonceAndAad) {
  const SecretKey key(std::string(32, 'k'));
  const SecretKey other(std::string(32, 'o'));
  const Nonce nonce{1, 2, 3};
  const std::array<std::string_view, 2> aad{"header", "key"};
  std::string sealed;
  seal(key, nonce, aad, "attack at dawn", sealed);
  ASSERT_EQ(sealed.size(), 14 + kGcmTagBytes);

  const Result<std::string> plain = open(key, nonce, aad, sealed);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain.value(), "attack at dawn");

  const std::array<std::string_view, 2> moved{"header", "kez"};
  EXPECT_EQ(open(other, nonce, aad, sealed).error().code, ErrorCode::kTampered);
  EXPECT_EQ(open(key, Nonce{1, 2, 4}, aad, sealed).error().code, ErrorCode::kTampered);
  EXPECT_EQ(open(key, nonce, moved, sealed).error().code, ErrorCode::kTampered);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string flipped = sealed;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
    EXPECT_EQ(open(key, nonce, aad, flipped).error().code, ErrorCode::kTampered) << i;
  }
}

TEST(Crypto, HmacDependsOnKeyAndEveryPart) {
  const SecretKey key(std::string(32, 'k'));
  const std::array<std::string_view, 2> parts{"ab", "c"};
  const auto mac = hmac_sha256(key, parts);
  const std::string_view stored(reinterpret_cast<const char*>(mac.data()), mac.size());
  EXPECT_TRUE(mac_equal(hmac_sha256(key, std::array<std::string_view, 1>{"abc"}), stored));
  EXPECT_FALSE(mac_equal(hmac_sha256(SecretKey(std::string(32, 'j')), parts), stored));
  EXPECT_FALSE(mac_equal(hmac_sha256(key, std::array<std::string_view, 1>{"abd"}), stored));
  EXPECT_FALSE(mac_equal(mac, stored.substr(1)));
}

TEST(Crypto, KeyringWritesWithNewestAndFindsAny) {
  Keyring ring;
  EXPECT_TRUE(ring.empty());
  ring.add(3, SecretKey(std::string(32, 'a')));
  ring.add(1, SecretKey(std::string(32, 'b')));
  EXPECT_EQ(ring.newest_id(), 1);
  EXPECT_EQ(ring.newest().data()[0], 'b');
  ASSERT_NE(ring.find(3), nullptr);
  EXPECT_EQ(ring.find(3)->data()[0], 'a');
  EXPECT_EQ(ring.find(2), nullptr);
  EXPECT_THROW(ring.add(3, SecretKey(std::string(32, 'c'))), Error);
}

TEST(Crypto, RandomNoncesDiffer) {
  Nonce a{}, b{};
  random_nonce(a);
  random_nonce(b);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace stratacache::codec
