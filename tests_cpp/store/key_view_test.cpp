// KeyView::equals and the inline byte comparison under it: every length up to past the inline
// cases, a difference at every position, and every split of a key into prefix and body.
#include <gtest/gtest.h>

#include <string>

#include "store/store.hpp"

namespace stratacache::store {
namespace {

std::string bytes_of(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

TEST(SameBytes, EqualRangesOfEveryLengthCompareEqual) {
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::string a = bytes_of(n), b = bytes_of(n);
    EXPECT_TRUE(same_bytes(a.data(), b.data(), n)) << n;
  }
}

TEST(SameBytes, ADifferenceAtAnyPositionIsSeen) {
  for (std::size_t n = 1; n <= 40; ++n) {
    const std::string a = bytes_of(n);
    for (std::size_t at = 0; at < n; ++at) {
      std::string b = a;
      b[at] = static_cast<char>(b[at] ^ 0x01);
      EXPECT_FALSE(same_bytes(a.data(), b.data(), n)) << n << " at " << at;
      b[at] = static_cast<char>(a[at] ^ 0x80);  // a high bit only
      EXPECT_FALSE(same_bytes(a.data(), b.data(), n)) << n << " at " << at;
    }
  }
}

TEST(SameBytes, ReadsOnlyTheRange) {
  // Bytes just outside the range differ; they must not count.
  const std::string a = "XabcdefghijklmnopqrstY", b = "ZabcdefghijklmnopqrstW";
  for (std::size_t n = 0; n <= 20; ++n) EXPECT_TRUE(same_bytes(a.data() + 1, b.data() + 1, n));
}

TEST(KeyView, EqualsEverySplitOfTheSameBytes) {
  for (std::size_t n = 0; n <= 36; ++n) {
    const std::string full = bytes_of(n);
    for (std::size_t cut = 0; cut <= n; ++cut) {
      const KeyView key{std::string_view(full).substr(0, cut), std::string_view(full).substr(cut)};
      EXPECT_TRUE(key.equals(full)) << n << " cut " << cut;
      EXPECT_FALSE(key.equals(full + "z")) << n << " cut " << cut;
      if (n > 0) {
        std::string other = full;
        other[n - 1] = '#';
        EXPECT_FALSE(key.equals(other)) << n << " cut " << cut;
        other = full;
        other[0] = '#';
        EXPECT_FALSE(key.equals(other)) << n << " cut " << cut;
        EXPECT_FALSE(key.equals(std::string_view(full).substr(0, n - 1)));
      }
    }
  }
}

}  // namespace
}  // namespace stratacache::store
