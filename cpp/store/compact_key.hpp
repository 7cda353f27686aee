// CompactKey: a stored key's bytes in 16 bytes, half of a std::string, for the entry slab.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "store/key_slab.hpp"
#include "store/store.hpp"

namespace stratacache::store {

/// A key's bytes: up to kInline of them in place (as many as std::string's small buffer). Of a
/// longer key, all but the last kTail bytes go to a block of the owner's KeySlab, and those
/// kTail stay in place, in the room the block's address and 16-bit size leave: the block is
/// kTail bytes shorter than the key. (A key of 64 KiB or more keeps its size at the start of its
/// block.) (A std::string takes 32 bytes in place, and past 15 bytes a malloc block
/// besides, 16-24 bytes more than the key.) The slab is not kept here (it would cost 8 bytes an
/// entry): the owner passes it to `assign` and `clear`, and must `clear` every key with its slab
/// before the key is destroyed. Move-only; a moved-from key is empty.
class CompactKey {
 public:
  static constexpr std::size_t kInline = 15;
  static constexpr std::size_t kTail = 5;

  CompactKey() noexcept = default;
  CompactKey(const CompactKey&) = delete;
  CompactKey& operator=(const CompactKey&) = delete;
  CompactKey(CompactKey&& other) noexcept : tag_(other.tag_) {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.tag_ = 0;
  }
  /// Only onto an empty key (`clear` it first): the bytes it held are not freed here.
  CompactKey& operator=(CompactKey&& other) noexcept {
    if (this != &other) {
      tag_ = other.tag_;
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
      other.tag_ = 0;
    }
    return *this;
  }
  ~CompactKey() = default;

  /// Replaces the bytes with `prefix` then `body`, the long ones in `slab`. Throws
  /// std::length_error past 4 GiB, std::bad_alloc.
  void assign(std::string_view prefix, std::string_view body, KeySlab& slab);
  /// Gives the bytes back to `slab` (the one they were assigned from); the key is empty after.
  void clear(KeySlab& slab) noexcept {
    if (tag_ == kLong) slab.deallocate(block(), block_size());
    tag_ = 0;
  }

  [[nodiscard]] std::size_t size() const noexcept { return tag_ != kLong ? tag_ : long_size(); }
  /// True if the key's bytes are prefix + body. Inline: for the lookup's probe loop.
  [[nodiscard]] bool equals(const KeyView& key) const noexcept {
    if (tag_ != kLong) return key.equals({bytes_, tag_});
    return equals_long(key);
  }
  [[nodiscard]] bool starts_with(std::string_view prefix) const noexcept;
  /// The key's bytes, as one string.
  [[nodiscard]] std::string to_string() const;

  /// True if the block is in a slab's chunks: a compaction moves it (`block`, `block_size`,
  /// `relocate`).
  [[nodiscard]] bool in_slab_chunks() const noexcept {
    return tag_ == kLong && KeySlab::in_chunks(block_size());
  }
  [[nodiscard]] char* block() const noexcept {
    char* p = nullptr;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  [[nodiscard]] std::size_t block_size() const noexcept {
    return long_size() - kTail + (size16() == kBigSize ? sizeof(std::uint64_t) : 0);
  }
  /// Repoints a long key at `to`, a copy of its block (from KeySlab::compact's move).
  void relocate(char* to) noexcept {
    if (tag_ == kLong) std::memcpy(bytes_, &to, sizeof to);
  }

 private:
  static constexpr std::uint8_t kLong = 0xFF;
  static constexpr std::size_t kSizeAt = sizeof(char*);
  static constexpr std::size_t kTailAt = kSizeAt + sizeof(std::uint16_t);
  static_assert(kTailAt + kTail == kInline && kTail == sizeof(std::uint32_t) + 1);
  /// The 16-bit size of a key of this size or more: its size is at the start of its block.
  static constexpr std::uint16_t kBigSize = 0xFFFF;

  [[nodiscard]] std::uint16_t size16() const noexcept {
    std::uint16_t size = 0;
    std::memcpy(&size, bytes_ + kSizeAt, sizeof size);
    return size;
  }
  [[nodiscard]] std::size_t long_size() const noexcept {
    const std::uint16_t size = size16();
    if (size != kBigSize) [[likely]]
      return size;
    std::uint64_t big = 0;
    std::memcpy(&big, block(), sizeof big);
    return big;
  }
  /// The key's first size() - kTail bytes.
  [[nodiscard]] const char* head() const noexcept {
    return block() + (size16() == kBigSize ? sizeof(std::uint64_t) : 0);
  }
  [[nodiscard]] bool equals_long(const KeyView& key) const noexcept;

  // In place: the bytes. Long: the block's address, the key's 16-bit size, its last kTail bytes.
  char bytes_[kInline]{};
  std::uint8_t tag_ = 0;  // the size in place, or kLong
};

static_assert(sizeof(CompactKey) == 16);

inline void CompactKey::assign(std::string_view prefix, std::string_view body, KeySlab& slab) {
  clear(slab);  // first: if the allocation below throws, the key is left empty
  const std::size_t n = prefix.size() + body.size();
  if (n > UINT32_MAX) throw std::length_error("key longer than 4 GiB");  // as before
  if (n <= kInline) {
    if (!prefix.empty()) std::memcpy(bytes_, prefix.data(), prefix.size());
    if (!body.empty()) std::memcpy(bytes_ + prefix.size(), body.data(), body.size());
    tag_ = static_cast<std::uint8_t>(n);
    return;
  }
  const bool big = n >= kBigSize;
  const std::size_t header = big ? sizeof(std::uint64_t) : 0;
  char* block = slab.allocate(header + n - kTail);
  const auto size = big ? kBigSize : static_cast<std::uint16_t>(n);
  std::memcpy(bytes_, &block, sizeof block);
  std::memcpy(bytes_ + kSizeAt, &size, sizeof size);
  const std::uint64_t n64 = n;
  if (big) std::memcpy(block, &n64, sizeof n64);
  char* out = block + header;
  // Byte i of prefix + body goes to the block below n - kTail, to the tail from there.
  for (std::size_t at = 0; const std::string_view part : {prefix, body}) {
    const std::size_t to_block = at < n - kTail ? std::min(part.size(), n - kTail - at) : 0;
    if (to_block != 0) std::memcpy(out + at, part.data(), to_block);
    if (part.size() > to_block) {
      std::memcpy(bytes_ + kTailAt + (at + to_block - (n - kTail)), part.data() + to_block,
                  part.size() - to_block);
    }
    at += part.size();
  }
  tag_ = kLong;
}

inline bool CompactKey::equals_long(const KeyView& key) const noexcept {
  const std::uint16_t size = size16();
  const std::string_view p = key.prefix;
  const std::string_view q = key.body;
  if (size != kBigSize && q.size() >= kTail) [[likely]] {
    // The usual shape: the tail lies in the body. It is in place: compare it first, by words.
    if (key.size() != size) return false;
    const char* b = block();
    const char* qt = q.data() + q.size() - kTail;
    std::uint32_t want = 0;
    std::uint32_t have = 0;
    std::memcpy(&want, qt, sizeof want);
    std::memcpy(&have, bytes_ + kTailAt, sizeof have);
    return want == have && qt[4] == bytes_[kTailAt + 4] &&
           (p.empty() || std::memcmp(b, p.data(), p.size()) == 0) &&
           std::memcmp(b + p.size(), q.data(), q.size() - kTail) == 0;
  }
  const std::size_t n = long_size();
  if (key.size() != n) return false;
  const std::size_t cut = n - kTail;
  const char* b = head();
  if (q.size() >= kTail) {
    return std::memcmp(q.data() + q.size() - kTail, bytes_ + kTailAt, kTail) == 0 &&
           (p.empty() || std::memcmp(b, p.data(), p.size()) == 0) &&
           std::memcmp(b + p.size(), q.data(), q.size() - kTail) == 0;
  }
  // A prefix reaching into the last kTail bytes.
  if (std::memcmp(b, p.data(), cut) != 0) return false;
  for (std::size_t i = cut; i < n; ++i) {
    const char c = i < p.size() ? p[i] : q[i - p.size()];
    if (c != bytes_[kTailAt + i - cut]) return false;
  }
  return true;
}

inline bool CompactKey::starts_with(std::string_view prefix) const noexcept {
  if (tag_ != kLong) return std::string_view(bytes_, tag_).starts_with(prefix);
  const std::size_t n = long_size();
  const std::size_t cut = n - kTail;
  if (prefix.size() > n) return false;
  if (prefix.size() <= cut) return std::memcmp(head(), prefix.data(), prefix.size()) == 0;
  return std::memcmp(head(), prefix.data(), cut) == 0 &&
         std::memcmp(bytes_ + kTailAt, prefix.data() + cut, prefix.size() - cut) == 0;
}

inline std::string CompactKey::to_string() const {
  if (tag_ != kLong) return {bytes_, tag_};
  const std::size_t n = long_size();
  std::string s(n, '\0');
  std::memcpy(s.data(), head(), n - kTail);
  std::memcpy(s.data() + n - kTail, bytes_ + kTailAt, kTail);
  return s;
}

}  // namespace stratacache::store
