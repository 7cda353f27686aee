#include "store/key_slab.hpp"

#include <algorithm>
#include <cstring>

namespace stratacache::store {

char* KeySlab::allocate(std::size_t n) {
  if (!in_chunks(n)) return new char[n];
  char* p = nullptr;
  if (n < free_.size() && free_[n] != nullptr) {
    p = free_[n];
    std::memcpy(&free_[n], p, sizeof p);  // the next free block
    --free_blocks_;
    free_bytes_ -= n;
  } else {
    p = carve(n);
  }
  ++live_blocks_;
  live_bytes_ += n;
  return p;
}

void KeySlab::deallocate(char* p, std::size_t n) noexcept {
  if (!in_chunks(n)) {
    delete[] p;
    return;
  }
  --live_blocks_;
  live_bytes_ -= n;
  // The last live block gone (a cleared store): give the chunks back rather than keep lists.
  if (live_blocks_ == 0) {
    reset();
    return;
  }
  push_free(p, n);
}

// A fresh block from the last chunk, or from a new one; what is left of a chunk too short for
// the block goes on a free list. The free lists reach every length carved (and so freed).
char* KeySlab::carve(std::size_t n) {
  const auto rest = static_cast<std::size_t>(end_ - cursor_);
  if (free_.size() <= n) free_.resize(n + 1, nullptr);  // may throw: nothing changed yet
  if (rest < n) {
    // Doubling what is held, between kFirstChunk and kLastChunk.
    const std::size_t chunk = std::max(n, std::clamp(chunk_bytes_, kFirstChunk, kLastChunk));
    chunks_.reserve(chunks_.size() + 1);              // may throw
    auto fresh = std::make_unique<char[]>(chunk);     // may throw
    if (rest >= kMinBlock) push_free(cursor_, rest);  // rest < n: its list exists
    cursor_ = fresh.get();
    end_ = cursor_ + chunk;
    chunk_bytes_ += chunk;
    chunks_.push_back(std::move(fresh));
  }
  char* p = cursor_;
  cursor_ += n;
  return p;
}

// One chunk of `bytes`, for `take` to fill (a compaction's target), and free lists as long.
void KeySlab::prepare(std::size_t bytes, std::size_t lists) {
  free_.resize(lists, nullptr);
  chunks_.reserve(1);
  chunks_.push_back(std::make_unique<char[]>(bytes));
  cursor_ = chunks_.back().get();
  end_ = cursor_ + bytes;
  chunk_bytes_ = bytes;
}

// A block from the prepared chunk, which has room for it.
char* KeySlab::take(std::size_t n) noexcept {
  char* p = cursor_;
  cursor_ += n;
  ++live_blocks_;
  live_bytes_ += n;
  return p;
}

void KeySlab::push_free(char* p, std::size_t n) noexcept {
  std::memcpy(p, &free_[n], sizeof p);
  free_[n] = p;
  ++free_blocks_;
  free_bytes_ += n;
}

void KeySlab::reset() noexcept {
  chunks_.clear();
  std::fill(free_.begin(), free_.end(), nullptr);
  cursor_ = end_ = nullptr;
  chunk_bytes_ = live_bytes_ = free_bytes_ = free_blocks_ = 0;
}

}  // namespace stratacache::store
