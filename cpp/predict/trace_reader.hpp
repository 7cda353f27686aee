// Reading cache traces: one signed 64-bit integer key per line, plain text or gzip.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stratacache::predict {

/// Every key of the trace at `path`, in order. Gzip is detected by its magic bytes.
/// Throws Error{kIo} if the file cannot be read, Error{kCorrupt} "after line N" for a truncated
/// or corrupt gzip stream, and Error{kCorrupt} naming the line that is not
/// an integer.
[[nodiscard]] std::vector<std::int64_t> read_trace(const std::string& path);

}  // namespace stratacache::predict
