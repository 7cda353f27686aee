#include "store/access_recorder.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "common/error.hpp"

namespace stratacache::store {

AccessRecorder::AccessRecorder(double sample_rate, std::uint64_t capacity) {
  const double t = std::round(sample_rate * static_cast<double>(kModulus));
  if (!(sample_rate <= 1.0) || !(t >= 1.0)) {
    throw Error(ErrorCode::kInvalidConfig,
                "record sample rate must be in [2^-24, 1], got " + std::to_string(sample_rate));
  }
  if (capacity == 0 || capacity > kMaxCapacity) {
    throw Error(ErrorCode::kInvalidConfig,
                "record capacity must be in [1, 2^32] records, got " + std::to_string(capacity));
  }
  threshold_ = static_cast<std::uint64_t>(t);
  const std::uint64_t slots = std::bit_ceil(capacity);
  mask_ = slots - 1;
  slots_ = std::make_unique<Slot[]>(static_cast<std::size_t>(slots));
}

void AccessRecorder::record(std::uint64_t key_hash, std::uint32_t ns_hash, AccessOp op,
                            Nanos time) noexcept {
  const std::uint64_t ticket = cursor_.fetch_add(1, std::memory_order_relaxed);
  Slot& s = slots_[ticket & mask_];
  const std::uint64_t writing = 2 * ticket + 1;
  std::uint64_t seen = s.seq.load(std::memory_order_relaxed);
  // Odd: the writer of an older ticket is still here. Larger: a newer ticket lapped us. Either
  // way the record is given up: waiting would make a slow writer stall every fast one.
  if ((seen & 1) != 0 || seen > writing ||
      !s.seq.compare_exchange_strong(seen, writing, std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Orders the odd sequence before the fields: a reader that sees any new field sees it odd.
  std::atomic_thread_fence(std::memory_order_release);
  s.time.store(time, std::memory_order_relaxed);
  s.key_hash.store(key_hash, std::memory_order_relaxed);
  s.tag.store(std::uint64_t{ns_hash} << 8 | static_cast<std::uint8_t>(op),
              std::memory_order_relaxed);
  s.seq.store(writing + 1, std::memory_order_release);
}

std::vector<AccessRecord> AccessRecorder::snapshot() const {
  std::vector<AccessRecord> out;
  read_since(0, out);
  return out;
}

std::uint64_t AccessRecorder::read_since(std::uint64_t from, std::vector<AccessRecord>& out) const {
  const std::uint64_t end = cursor_.load(std::memory_order_acquire);
  const std::uint64_t slots = mask_ + 1;
  const std::uint64_t begin = std::max(from, end > slots ? end - slots : 0);
  out.reserve(out.size() + static_cast<std::size_t>(end - std::min(begin, end)));
  for (std::uint64_t ticket = begin; ticket < end; ++ticket) {
    const Slot& s = slots_[ticket & mask_];
    const std::uint64_t whole = 2 * ticket + 2;
    if (s.seq.load(std::memory_order_acquire) != whole) continue;  // torn, lapped or dropped
    AccessRecord r;
    r.time = s.time.load(std::memory_order_relaxed);
    r.key_hash = s.key_hash.load(std::memory_order_relaxed);
    const std::uint64_t tag = s.tag.load(std::memory_order_relaxed);
    // Orders the field reads before the re-check: a writer that changed them has bumped seq.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != whole) continue;
    r.namespace_hash = static_cast<std::uint32_t>(tag >> 8);
    r.op = static_cast<AccessOp>(tag & 0xff);
    out.push_back(r);
  }
  return std::max(from, end);
}

void AccessRecorder::keep_names(std::size_t capacity) {
  if (names_ || capacity == 0) return;
  names_ = std::make_unique<KeyNames>(capacity);
}

RecorderStats AccessRecorder::stats() const noexcept {
  return {.sample_rate = sample_rate(),
          .capacity = capacity(),
          .recorded = cursor_.load(std::memory_order_relaxed),
          .dropped = dropped_.load(std::memory_order_relaxed)};
}

}  // namespace stratacache::store
