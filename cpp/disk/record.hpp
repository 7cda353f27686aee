// The on-disk record of one entry and the order key of its place in the eviction queue.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "disk/disk_store.hpp"

namespace stratacache::disk::record {

constexpr std::size_t kHeader = 16;  ///< expiry ms (int64) + sequence (uint64), little-endian
constexpr WallMillis kNever = 0;

/// The header fields of a record; nullopt when the bytes are too short to hold one.
struct Header {
  WallMillis expiry;
  std::uint64_t seq;
};
inline std::optional<Header> parse(std::string_view rec) {
  if (rec.size() < kHeader) return std::nullopt;
  Header h{};
  std::memcpy(&h.expiry, rec.data(), 8);
  std::memcpy(&h.seq, rec.data() + 8, 8);
  return h;
}

inline void write_header(char* out, WallMillis expiry, std::uint64_t seq) {
  std::memcpy(out, &expiry, 8);
  std::memcpy(out + 8, &seq, 8);
}

inline bool expired(WallMillis expiry, WallMillis now) { return expiry != kNever && expiry <= now; }

/// Seconds left until `expiry` (infinity for kNever).
inline double ttl_left(WallMillis expiry, WallMillis now) {
  if (expiry == kNever) return std::numeric_limits<double>::infinity();
  return static_cast<double>(expiry - now) / 1000.0;
}

/// The absolute expiry of a TTL given now (kNever for infinity); ttl must be > 0.
inline WallMillis expiry_of(double ttl_seconds, WallMillis now) {
  if (std::isinf(ttl_seconds)) return kNever;
  auto ms = static_cast<WallMillis>(std::ceil(ttl_seconds * 1000.0));
  return now + (ms < 1 ? 1 : ms);
}

/// The order key of a sequence: big-endian, so LMDB's byte order is the queue's order.
inline std::string order_key(std::uint64_t seq) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(seq & 0xffU);
    seq >>= 8;
  }
  return out;
}

}  // namespace stratacache::disk::record
