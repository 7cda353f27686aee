// NameArena: key names (prefix + body) packed into fixed-size chunks, each name a short
// length-prefixed record named by a 32-bit reference, so that keeping a name costs its bytes
// plus two or three, where a std::string in a hash-map node costs 56 bytes and a malloc block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace stratacache::store {

/// A name as stored: the whole of prefix + body, and where the body starts.
struct NameView {
  std::string_view full;
  std::uint32_t prefix_size = 0;
};

/// Append-only within a chunk. A record is varint(size) varint(prefix size) bytes; a freed
/// record stays where it is (counted dead) until the owner, which holds the references,
/// copies the live ones into a fresh arena (`copy_from`) and swaps. Not thread-safe.
class NameArena {
 public:
  /// The reference of no name.
  static constexpr std::uint32_t kNone = 0;
  static constexpr std::size_t kChunk = std::size_t{16} << 10;
  /// Longer names are refused: a name sits in one chunk.
  static constexpr std::size_t kMaxName = 4096;

  /// Stores prefix + body; returns its reference, or kNone if it is longer than kMaxName or
  /// 2^32 bytes of chunks are in use. Throws std::bad_alloc.
  std::uint32_t add(std::string_view prefix, std::string_view body);
  /// Copies the name `ref` of `other` here (as `add`).
  std::uint32_t copy_from(const NameArena& other, std::uint32_t ref) {
    const NameView v = other.get(ref);
    return add(v.full.substr(0, v.prefix_size), v.full.substr(v.prefix_size));
  }
  /// The name `ref` (not kNone) refers to.
  [[nodiscard]] NameView get(std::uint32_t ref) const noexcept;
  /// Marks the name `ref` dead (kNone: nothing).
  void release(std::uint32_t ref) noexcept;

  /// True once dead records hold more bytes than live ones, and at least a chunk's worth.
  [[nodiscard]] bool wants_compaction() const noexcept { return dead_ > live_ && dead_ >= kChunk; }
  [[nodiscard]] std::size_t live_bytes() const noexcept { return live_; }
  /// Bytes held: every chunk whole, and the chunk table's capacity.
  [[nodiscard]] std::size_t bytes() const noexcept {
    return chunks_.size() * kChunk + chunks_.capacity() * sizeof(chunks_[0]);
  }

 private:
  [[nodiscard]] std::size_t record_size(std::uint32_t ref) const noexcept;

  std::vector<std::unique_ptr<char[]>> chunks_;
  std::size_t used_ = kChunk;  ///< bytes used in the last chunk (kChunk: none open)
  std::size_t live_ = 0;       ///< bytes of live records
  std::size_t dead_ = 0;       ///< bytes of released records and of chunk tails left unused
};

}  // namespace stratacache::store
