// CompactKey: a stored key's bytes in 16 bytes, half of a std::string, for the entry slab.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace stratacache::store {

/// Owns a key's bytes: up to kInline of them in place (as many as std::string's small buffer),
/// longer ones in one exact-size heap block. A std::string takes 32 bytes in place, and past 15
/// bytes a heap block besides. Move-only; a moved-from key is empty.
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
  CompactKey& operator=(CompactKey&& other) noexcept {
    if (this != &other) {
      release();
      tag_ = other.tag_;
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
      other.tag_ = 0;
    }
    return *this;
  }
  ~CompactKey() { release(); }

  /// Replaces the bytes with `prefix` then `body`. Throws std::length_error past 4 GiB.
  void assign(std::string_view prefix, std::string_view body) {
    clear();  // first: if the allocation below throws, the key is left empty
    const std::size_t n = prefix.size() + body.size();
    if (n > UINT32_MAX) throw std::length_error("key longer than 4 GiB");
    char* out = bytes_;
    if (n > kInline) {
      out = new char[n];
      const auto size = static_cast<std::uint32_t>(n);
      std::memcpy(bytes_, &out, sizeof out);
      std::memcpy(bytes_ + sizeof out, &size, sizeof size);
    }
    if (!prefix.empty()) std::memcpy(out, prefix.data(), prefix.size());
    if (!body.empty()) std::memcpy(out + prefix.size(), body.data(), body.size());
    tag_ = n > kInline ? kHeap : static_cast<std::uint8_t>(n);
  }
  /// Frees the bytes; the key is empty after.
  void clear() noexcept {
    release();
    tag_ = 0;
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
  static constexpr std::uint8_t kHeap = 0xFF;

  void release() noexcept {
    if (tag_ == kHeap) delete[] view().data();
  }

  // In place: the bytes. On the heap: the block's address, then its 32-bit size.
  char bytes_[kInline]{};
  std::uint8_t tag_ = 0;  // the size in place, or kHeap
};

static_assert(sizeof(CompactKey) == 16);

}  // namespace stratacache::store
