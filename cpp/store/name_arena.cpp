#include "store/name_arena.hpp"

#include <cstring>
#include <limits>

namespace stratacache::store {
namespace {

// Sizes below 2^14 (kMaxName is 2^12) in one or two bytes, low seven bits first.
char* put_varint(char* out, std::size_t v) noexcept {
  if (v >= 0x80) {
    *out++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}

const char* get_varint(const char* in, std::size_t& v) noexcept {
  const auto b0 = static_cast<unsigned char>(*in++);
  v = b0 & 0x7fU;
  if ((b0 & 0x80U) != 0) v |= std::size_t{static_cast<unsigned char>(*in++)} << 7;
  return in;
}

constexpr std::size_t varint_size(std::size_t v) noexcept { return v >= 0x80 ? 2 : 1; }

}  // namespace

std::uint32_t NameArena::add(std::string_view prefix, std::string_view body) {
  const std::size_t n = prefix.size() + body.size();
  if (n > kMaxName) return kNone;
  const std::size_t record = varint_size(n) + varint_size(prefix.size()) + n;
  if (used_ + record > kChunk) {
    // A reference is chunk * kChunk + offset + 1, which must fit 32 bits.
    constexpr std::size_t kMaxChunks = std::numeric_limits<std::uint32_t>::max() / kChunk;
    if (chunks_.size() >= kMaxChunks) return kNone;
    chunks_.push_back(std::make_unique<char[]>(kChunk));  // may throw: nothing changed yet
    if (used_ < kChunk) dead_ += kChunk - used_;
    used_ = 0;
  }
  char* start = chunks_.back().get() + used_;
  char* out = put_varint(put_varint(start, n), prefix.size());
  if (!prefix.empty()) std::memcpy(out, prefix.data(), prefix.size());
  if (!body.empty()) std::memcpy(out + prefix.size(), body.data(), body.size());
  const std::size_t at = (chunks_.size() - 1) * kChunk + used_;
  used_ += record;
  live_ += record;
  return static_cast<std::uint32_t>(at + 1);
}

NameView NameArena::get(std::uint32_t ref) const noexcept {
  const std::size_t at = std::size_t{ref} - 1;
  const char* in = chunks_[at / kChunk].get() + at % kChunk;
  std::size_t n = 0;
  std::size_t prefix = 0;
  in = get_varint(get_varint(in, n), prefix);
  return {std::string_view(in, n), static_cast<std::uint32_t>(prefix)};
}

std::size_t NameArena::record_size(std::uint32_t ref) const noexcept {
  const NameView v = get(ref);
  return varint_size(v.full.size()) + varint_size(v.prefix_size) + v.full.size();
}

void NameArena::release(std::uint32_t ref) noexcept {
  if (ref == kNone) return;
  const std::size_t size = record_size(ref);
  live_ -= size;
  dead_ += size;
}

}  // namespace stratacache::store
