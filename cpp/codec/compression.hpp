// Payload compression for the envelope: lz4 for speed, zstd for ratio, both bounded on decode.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "codec/envelope.hpp"
#include "common/result.hpp"

namespace stratacache::codec {

/// When and how to compress.
struct CompressionOptions {
  Compression algorithm = Compression::kLz4;
  std::size_t threshold = 1024;  ///< payloads smaller than this stay uncompressed
  int zstd_level = 3;
  double min_saving = 0.10;  ///< keep the compressed form only if it is this much smaller
};

/// The compressed payload, or nullopt when compression is off, below the threshold, or does
/// not save at least `min_saving` of the size.
[[nodiscard]] std::optional<std::string> compress(std::string_view payload,
                                                  const CompressionOptions& options);

/// Decompresses `body` into exactly `expected_size` bytes. The caller has already checked
/// `expected_size` against the size limit, so a zip bomb is refused before allocating; any
/// mismatch or malformed stream is kCorrupt.
[[nodiscard]] Result<std::string> decompress(Compression algorithm, std::string_view body,
                                             std::size_t expected_size);

}  // namespace stratacache::codec
