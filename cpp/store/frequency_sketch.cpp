#include "store/frequency_sketch.hpp"

#include <algorithm>
#include <bit>

#include "common/hash.hpp"

namespace stratacache::store {
namespace {

constexpr std::uint64_t kWordsPerBlock = 8;
constexpr std::uint64_t kMinWords = kWordsPerBlock;
// Beyond this the sketch stops growing: 2^26 words are 512 MiB.
constexpr std::uint64_t kMaxWords = std::uint64_t{1} << 26;
constexpr std::uint64_t kLowBitOfEachCounter = 0x1111111111111111ULL;
constexpr std::uint64_t kHighBitsCleared = 0x7777777777777777ULL;
constexpr std::uint64_t kSamplesPerEntry = 10;

}  // namespace

void FrequencySketch::resize(std::uint64_t expected_entries) {
  capacity_ = std::clamp<std::uint64_t>(expected_entries, 1, kMaxWords);
  const std::uint64_t words = std::max(std::bit_ceil(capacity_), kMinWords);
  table_.assign(words, 0);
  sample_size_ = kSamplesPerEntry * capacity_;
  size_ = 0;
  block_mask_ = static_cast<std::size_t>(words / kWordsPerBlock - 1);
}

void FrequencySketch::ensure_capacity(std::uint64_t expected_entries) {
  if (expected_entries <= capacity_ || capacity_ >= kMaxWords) return;
  resize(expected_entries);
}

FrequencySketch::Slots FrequencySketch::slots_of(std::uint64_t hash) const noexcept {
  // Callers pass hashes whose high bits may be shared (a shard is chosen by them), so mix again:
  // the low half picks the block, each byte of the high half one counter of one word pair.
  const std::uint64_t h = mix64(hash ^ 0x9e3779b97f4a7c15ULL);
  const std::size_t block = (static_cast<std::size_t>(h) & block_mask_) * kWordsPerBlock;
  const auto counters = static_cast<std::uint32_t>(h >> 32);
  Slots s{};
  for (unsigned i = 0; i < 4; ++i) {
    const std::uint32_t byte = (counters >> (8 * i)) & 0xffU;
    s.word[i] = block + 2 * i + (byte & 1U);  // word pair i, one of its two words
    s.shift[i] = ((byte >> 1) & 15U) * 4;     // one of the 16 counters in that word
  }
  return s;
}

unsigned FrequencySketch::frequency(std::uint64_t hash) const noexcept {
  const Slots s = slots_of(hash);
  unsigned least = kMaxCount;
  for (unsigned i = 0; i < 4; ++i) {
    least = std::min(least, static_cast<unsigned>((table_[s.word[i]] >> s.shift[i]) & 15U));
  }
  return least;
}

void FrequencySketch::increment(std::uint64_t hash) noexcept {
  const Slots s = slots_of(hash);
  bool added = false;
  for (unsigned i = 0; i < 4; ++i) {
    std::uint64_t& word = table_[s.word[i]];
    if (((word >> s.shift[i]) & 15U) != kMaxCount) {
      word += std::uint64_t{1} << s.shift[i];
      added = true;
    }
  }
  // Only increments that changed a counter count towards aging, so a saturated hot key cannot
  // age everyone else faster.
  if (added && ++size_ >= sample_size_) age();
}

void FrequencySketch::age() noexcept {
  std::uint64_t odd = 0;
  for (std::uint64_t& word : table_) {
    odd += static_cast<std::uint64_t>(std::popcount(word & kLowBitOfEachCounter));
    word = (word >> 1) & kHighBitsCleared;
  }
  // Each key owns four counters, so a quarter of the truncated halves were whole increments.
  size_ = (size_ - std::min(size_, odd / 4)) / 2;
}

void FrequencySketch::clear() noexcept {
  std::fill(table_.begin(), table_.end(), 0);
  size_ = 0;
}

}  // namespace stratacache::store
