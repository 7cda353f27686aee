// The recorded-trace file: what `AccessRecorder` collected, written for replay and analysis.
//
// Format v1, gzip-compressed text:
//
//   # stratacache-trace v1 sample_rate=<R>
//   <t_ns> <op> <key_hash> <ns_hash>
//   ...
//
// The header is the first line. Each further line is one record, oldest first: t_ns is the
// store's monotonic clock in nanoseconds (signed 64-bit), op one letter (h get-hit, m get-miss,
// s set, d delete or invalidation), key_hash the store's 64-bit key hash and ns_hash the 32-bit
// namespace hash, both unsigned decimal; fields are separated by one space. R is the share of
// keys recorded: every access of a recorded key is in the file, no access of the others.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "store/access_recorder.hpp"

namespace stratacache::store {

/// The header line starts with this, followed by the version.
inline constexpr std::string_view kTraceMagic = "# stratacache-trace ";
/// The version this build writes and reads.
inline constexpr std::string_view kTraceVersion = "v1";

/// The letter of `op` in the file.
[[nodiscard]] constexpr char op_letter(AccessOp op) noexcept {
  constexpr char kLetters[] = {'h', 'm', 's', 'd'};
  return kLetters[static_cast<std::uint8_t>(op) & 3];
}

/// The op of a letter, or nullopt.
[[nodiscard]] constexpr std::optional<AccessOp> op_of_letter(char c) noexcept {
  switch (c) {
    case 'h':
      return AccessOp::kGetHit;
    case 'm':
      return AccessOp::kGetMiss;
    case 's':
      return AccessOp::kSet;
    case 'd':
      return AccessOp::kDelete;
    default:
      return std::nullopt;
  }
}

/// Writes `records` to `path` (replaced if present) in format v1; returns how many were written.
/// Throws Error{kIo} if the file cannot be written.
std::uint64_t write_trace(const std::string& path, std::span<const AccessRecord> records,
                          double sample_rate);

}  // namespace stratacache::store
