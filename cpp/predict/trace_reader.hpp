// Reading cache traces: one signed 64-bit integer key per line, plain text or gzip, or the
// access records a store wrote (store/access_trace.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace stratacache::predict {

/// Every key of the trace at `path`, in order. Gzip is detected by its magic bytes.
/// A file that starts with a recorded trace's header (store/access_trace.hpp) is read as one:
/// its reads (get hits and misses) are the requests, keyed by their key hash cast to int64;
/// sets and deletes are skipped. Error{kCorrupt} for a version this build cannot read.
/// Throws Error{kIo} if the file cannot be read, Error{kCorrupt} "after line N" for a truncated
/// or corrupt gzip stream, and Error{kCorrupt} naming the line that is not
/// an integer.
[[nodiscard]] std::vector<std::int64_t> read_trace(const std::string& path);

/// The keys of `read_trace(path)`, handed to `consume` in order a chunk at a time (a chunk per
/// megabyte of text), so that a caller that keeps only some of them never holds them all.
/// Throws what `read_trace` throws, after the chunks before the fault were consumed.
void read_trace_chunks(const std::string& path,
                       const std::function<void(std::span<const std::int64_t>)>& consume);

}  // namespace stratacache::predict
