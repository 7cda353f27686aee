#include "store/frequency_sketch.hpp"

#include <algorithm>
#include <bit>

namespace stratacache::store {
namespace {

constexpr std::uint64_t kMinWords = 8;  // one block
// Beyond this the sketch stops growing: 2^26 words are 512 MiB.
constexpr std::uint64_t kMaxWords = std::uint64_t{1} << 26;
constexpr std::uint64_t kLowBitOfEachCounter = 0x1111111111111111ULL;
constexpr std::uint64_t kHighBitsCleared = 0x7777777777777777ULL;
constexpr std::uint64_t kSamplesPerEntry = 10;

}  // namespace

void FrequencySketch::resize(std::uint64_t expected_entries) {
  capacity_ = std::clamp<std::uint64_t>(expected_entries, 1, kMaxWords);
  const std::uint64_t words = std::max(std::bit_ceil(capacity_), kMinWords);
  table_.assign(words / kWordsPerBlock, Block{});
  sample_size_ = kSamplesPerEntry * capacity_;
  size_ = 0;
  block_mask_ = static_cast<std::size_t>(words / kWordsPerBlock - 1);
  hint_.publish(table_.data(), block_mask_);
}

void FrequencySketch::ensure_capacity(std::uint64_t expected_entries) {
  if (expected_entries <= capacity_ || capacity_ >= kMaxWords) return;
  resize(expected_entries);
}

void FrequencySketch::age() noexcept {
  std::uint64_t odd = 0;
  for (Block& block : table_) {
    for (std::uint64_t& word : block.words) {
      odd += static_cast<std::uint64_t>(std::popcount(word & kLowBitOfEachCounter));
      word = (word >> 1) & kHighBitsCleared;
    }
  }
  // Each key owns four counters, so a quarter of the truncated halves were whole increments.
  size_ = (size_ - std::min(size_, odd / 4)) / 2;
}

void FrequencySketch::clear() noexcept {
  std::fill(table_.begin(), table_.end(), Block{});
  size_ = 0;
}

}  // namespace stratacache::store
