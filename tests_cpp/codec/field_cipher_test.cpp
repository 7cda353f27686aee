#include "codec/field_cipher.hpp"

#include <gtest/gtest.h>

#include <string>

#include "codec_test_support.hpp"

namespace stratacache::codec {
namespace {

using testing::test_key;

Keyring ring(std::uint16_t id, char fill) {
  Keyring keys;
  keys.add(id, test_key(fill));
  return keys;
}

std::string sealed(const Keyring& keys, std::string_view cache_key, std::string_view field,
                   std::string_view plain) {
  std::string out;
  seal_field(keys, {}, cache_key, field, plain, out);
  return out;
}

TEST(FieldCipher, RoundTripsAndNamesItsKey) {
  const Keyring keys = ring(0x0102, 'a');
  const std::string s = sealed(keys, "user:1", "password", "hunter2");
  EXPECT_EQ(s.size(), kSealedFieldOverhead + 7);
  EXPECT_EQ(sealed_field_key_id(s), 0x0102);
  EXPECT_EQ(s.find("hunter2"), std::string::npos);
  const Result<std::string> back = open_field(keys, "user:1", "password", s);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value(), "hunter2");
}

TEST(FieldCipher, BindsCacheKeyAndFieldName) {
  const Keyring keys = ring(1, 'a');
  const std::string s = sealed(keys, "user:1", "password", "v");
  EXPECT_EQ(open_field(keys, "user:2", "password", s).error().code, ErrorCode::kTampered);
  EXPECT_EQ(open_field(keys, "user:1", "token", s).error().code, ErrorCode::kTampered);
  // No (key, field) split can be shifted into another with the same associated data.
  EXPECT_EQ(open_field(keys, "user:1p", "assword", s).error().code, ErrorCode::kTampered);
}

TEST(FieldCipher, WrongKeyUnknownIdAndTruncationFail) {
  const std::string s = sealed(ring(1, 'a'), "k", "f", "value");
  EXPECT_EQ(open_field(ring(1, 'b'), "k", "f", s).error().code, ErrorCode::kTampered);
  EXPECT_EQ(open_field(ring(2, 'a'), "k", "f", s).error().code, ErrorCode::kTampered);
  for (std::size_t n = 0; n < kSealedFieldOverhead; ++n) {
    EXPECT_EQ(open_field(ring(1, 'a'), "k", "f", s.substr(0, n)).error().code, ErrorCode::kCorrupt)
        << n;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    std::string bad = s;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    EXPECT_FALSE(open_field(ring(1, 'a'), "k", "f", bad).ok()) << i;
  }
}

TEST(FieldCipher, NewestKeySealsAndEveryKeyOpens) {
  Keyring keys = ring(1, 'a');
  const std::string old_value = sealed(keys, "k", "f", "old");
  keys.add(2, test_key('b'));
  const std::string new_value = sealed(keys, "k", "f", "new");
  EXPECT_EQ(sealed_field_key_id(new_value), 2);
  EXPECT_EQ(open_field(keys, "k", "f", old_value).value(), "old");
  EXPECT_EQ(open_field(keys, "k", "f", new_value).value(), "new");
}

TEST(KeyFingerprint, IsStableAndDiffersBetweenKeys) {
  EXPECT_EQ(key_fingerprint(test_key('a')), key_fingerprint(test_key('a')));
  EXPECT_NE(key_fingerprint(test_key('a')), key_fingerprint(test_key('b')));
}

}  // namespace
}  // namespace stratacache::codec
