#include "codec/compression.hpp"

#include <lz4.h>
#include <zstd.h>

#include <limits>

namespace stratacache::codec {
namespace {

std::optional<std::string> lz4_compress(std::string_view payload) {
  if (payload.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return std::nullopt;
  const int src_size = static_cast<int>(payload.size());
  std::string out(static_cast<std::size_t>(LZ4_compressBound(src_size)), '\0');
  const int n =
      LZ4_compress_default(payload.data(), out.data(), src_size, static_cast<int>(out.size()));
  if (n <= 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> zstd_compress(std::string_view payload, int level) {
  std::string out(ZSTD_compressBound(payload.size()), '\0');
  const std::size_t n =
      ZSTD_compress(out.data(), out.size(), payload.data(), payload.size(), level);
  if (ZSTD_isError(n) != 0U) return std::nullopt;
  out.resize(n);
  return out;
}

}  // namespace

std::optional<std::string> compress(std::string_view payload, const CompressionOptions& options) {
  if (options.algorithm == Compression::kNone || payload.size() < options.threshold) {
    return std::nullopt;
  }
  std::optional<std::string> out = options.algorithm == Compression::kLz4
                                       ? lz4_compress(payload)
                                       : zstd_compress(payload, options.zstd_level);
  const double limit = static_cast<double>(payload.size()) * (1.0 - options.min_saving);
  if (!out || static_cast<double>(out->size()) > limit) return std::nullopt;
  return out;
}

Result<std::string> decompress(Compression algorithm, std::string_view body,
                               std::size_t expected_size) {
  if (algorithm == Compression::kNone) {
    if (body.size() != expected_size) return fail(ErrorCode::kCorrupt, "codec: size mismatch");
    return std::string(body);
  }
  std::string out(expected_size, '\0');
  if (algorithm == Compression::kLz4) {
    constexpr std::size_t kIntMax = static_cast<std::size_t>(std::numeric_limits<int>::max());
    if (body.size() > kIntMax || expected_size > kIntMax) {
      return fail(ErrorCode::kTooLarge, "codec: lz4 block too large");
    }
    const int n = LZ4_decompress_safe(body.data(), out.data(), static_cast<int>(body.size()),
                                      static_cast<int>(expected_size));
    if (n < 0 || static_cast<std::size_t>(n) != expected_size) {
      return fail(ErrorCode::kCorrupt, "codec: malformed lz4 data");
    }
    return out;
  }
  // One-shot zstd writes straight into `out` and never past its capacity.
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), body.data(), body.size());
  if (ZSTD_isError(n) != 0U || n != expected_size) {
    return fail(ErrorCode::kCorrupt, "codec: malformed zstd data");
  }
  return out;
}

}  // namespace stratacache::codec
