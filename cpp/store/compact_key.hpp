// CompactKey: a stored key's bytes in 16 bytes, half of a std::string, for the entry slab.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "store/key_slab.hpp"

namespace stratacache::store {

/// A key's bytes: up to kInline of them in place (as many as std::string's small buffer), longer
/// ones in a block of the owner's KeySlab. A std::string takes 32 bytes in place, and past 15
/// bytes a malloc block besides, 16-24 bytes more than the key. The slab is not kept here (it
/// would cost 8 bytes an entry): the owner passes it to `assign` and `clear`, and must `clear`
/// every key with its slab before the key is destroyed. Move-only; a moved-from key is empty.
class CompactKey {
 public:
  static constexpr std::size_t kInline = 15;

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
  void assign(std::string_view prefix, std::string_view body, KeySlab& slab) {
    clear(slab);  // first: if the allocation below throws, the key is left empty
    const std::size_t n = prefix.size() + body.size();
    if (n > UINT32_MAX) throw std::length_error("key longer than 4 GiB");
    char* out = bytes_;
    if (n > kInline) {
      out = slab.allocate(n);
      const auto size = static_cast<std::uint32_t>(n);
      std::memcpy(bytes_, &out, sizeof out);
      std::memcpy(bytes_ + sizeof out, &size, sizeof size);
    }
    if (!prefix.empty()) std::memcpy(out, prefix.data(), prefix.size());
    if (!body.empty()) std::memcpy(out + prefix.size(), body.data(), body.size());
    tag_ = n > kInline ? kHeap : static_cast<std::uint8_t>(n);
  }
  /// Gives the bytes back to `slab` (the one they were assigned from); the key is empty after.
  void clear(KeySlab& slab) noexcept {
    if (tag_ == kHeap) slab.deallocate(block(), view().size());
    tag_ = 0;
  }
  /// True if the bytes are in a slab's chunks: a compaction moves them (`relocate`).
  [[nodiscard]] bool in_slab_chunks() const noexcept {
    return tag_ == kHeap && KeySlab::in_chunks(view().size());
  }
  /// Repoints the key at `to`, a copy of its bytes (from KeySlab::compact's move).
  void relocate(char* to) noexcept {
    if (tag_ == kHeap) std::memcpy(bytes_, &to, sizeof to);
  }

  [[nodiscard]] std::string_view view() const noexcept {
    if (tag_ != kHeap) return {bytes_, tag_};
    const char* p = nullptr;
    std::uint32_t size = 0;
    std::memcpy(&p, bytes_, sizeof p);
    std::memcpy(&size, bytes_ + sizeof p, sizeof size);
    return {p, size};
  }
  [[nodiscard]] bool starts_with(std::string_view prefix) const noexcept {
    return view().starts_with(prefix);
  }

 private:
  static constexpr std::uint8_t kHeap = 0xFF;  // out of place: in a slab's chunk or on the heap

  [[nodiscard]] char* block() const noexcept {
    char* p = nullptr;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }

  // In place: the bytes. Out of place: the block's address, then its 32-bit size.
  char bytes_[kInline]{};
  std::uint8_t tag_ = 0;  // the size in place, or kHeap
};

static_assert(sizeof(CompactKey) == 16);

}  // namespace stratacache::store
