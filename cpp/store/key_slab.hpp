// KeySlab: the bytes of a shard's long keys (past CompactKey::kInline), in size classes carved
// from the shard's own chunks, with no per-block header: the key knows its size. A malloc block
// of n bytes costs n + 8 rounded up to 16 (16-24 bytes more than the key on average).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace stratacache::store {

/// A block is exactly as long as its key (no alignment: keys are compared with memcmp), and each
/// length is a class: a freed block goes on its class's free list (the link lives in the block)
/// and the next key of that length reuses it. A namespace's prefix adds a byte or more to every
/// key of a cache, so rounding lengths up (to 8, say) would waste up to 7 bytes on the 16/32/64
/// byte keys applications like. Keys longer than kMaxBlock
/// get a heap block of their own (the header is small beside them). Free blocks of classes
/// nobody asks for any more are reclaimed by `compact`, which the owner calls when
/// `wants_compaction`: every live block moves into one chunk of their summed size, and the old
/// chunks are freed. Not thread-safe: the shard's lock guards it.
class KeySlab {
 public:
  /// The shortest block: room for a free list's link.
  static constexpr std::size_t kMinBlock = sizeof(char*);
  static constexpr std::size_t kMaxBlock = 1024;
  /// Chunks start small (a store of a few long keys holds a few hundred bytes) and double.
  static constexpr std::size_t kFirstChunk = 512;
  static constexpr std::size_t kLastChunk = std::size_t{64} << 10;

  static_assert(kLastChunk >= kMaxBlock);

  KeySlab() = default;
  KeySlab(const KeySlab&) = delete;
  KeySlab& operator=(const KeySlab&) = delete;
  KeySlab(KeySlab&&) noexcept = default;
  KeySlab& operator=(KeySlab&&) noexcept = default;
  ~KeySlab() = default;

  /// Room for `n` bytes (n >= kMinBlock). Throws std::bad_alloc.
  [[nodiscard]] char* allocate(std::size_t n);
  /// Gives back a block `allocate(n)` returned (the same n).
  void deallocate(char* p, std::size_t n) noexcept;

  /// True while a block of `n` bytes comes from the slab's chunks (not the heap).
  [[nodiscard]] static constexpr bool in_chunks(std::size_t n) noexcept { return n <= kMaxBlock; }
  /// True once free blocks hold at least a quarter as many bytes as live ones and number at
  /// least `slots` / 16: a compaction visiting `slots` entries then costs at most 16 visits and
  /// four key copies per block it frees.
  [[nodiscard]] bool wants_compaction(std::size_t slots) const noexcept {
    return free_bytes_ * 4 >= live_bytes_ && free_blocks_ * 16 >= slots && free_blocks_ != 0;
  }

  /// Moves every live block in the chunks into one fresh chunk that holds them exactly, then
  /// frees the old ones. `for_each_block(move)` must call `char* move(const char* p, size_t n)`
  /// once for every live block (p, n as allocated) and keep the address it returns in place of
  /// p. Throws std::bad_alloc before anything moved; after that nothing throws.
  template <class ForEachBlock>
  void compact(ForEachBlock&& for_each_block) {
    KeySlab fresh;
    fresh.prepare(live_bytes_, free_.size());
    for_each_block([&fresh](const char* p, std::size_t n) noexcept {
      char* q = fresh.take(n);
      std::memcpy(q, p, n);
      return q;
    });
    *this = std::move(fresh);
  }

  /// Bytes of live blocks in the chunks.
  [[nodiscard]] std::size_t live_bytes() const noexcept { return live_bytes_; }
  /// Bytes of blocks on the free lists.
  [[nodiscard]] std::size_t free_bytes() const noexcept { return free_bytes_; }
  /// Bytes held: every chunk whole and the tables; heap blocks past kMaxBlock are not counted.
  [[nodiscard]] std::size_t bytes() const noexcept {
    return chunk_bytes_ + chunks_.capacity() * sizeof(chunks_[0]) +
           free_.capacity() * sizeof(free_[0]);
  }

 private:
  char* carve(std::size_t size);
  void prepare(std::size_t bytes, std::size_t lists);
  char* take(std::size_t n) noexcept;
  void push_free(char* p, std::size_t n) noexcept;
  void reset() noexcept;

  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<char*> free_;  ///< by length, the first free block (its first bytes: the next)
  char* cursor_ = nullptr;   ///< the unused rest of the last chunk
  char* end_ = nullptr;
  std::size_t chunk_bytes_ = 0;
  std::size_t live_bytes_ = 0;
  std::size_t live_blocks_ = 0;
  std::size_t free_bytes_ = 0;
  std::size_t free_blocks_ = 0;
};

}  // namespace stratacache::store
