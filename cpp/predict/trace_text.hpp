// The text of a trace file: its bytes, gunzipped as they are read if the file is gzip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

struct inflate_state;  // ISA-L's (isa-l/igzip_lib.h)

namespace stratacache::predict {

/// A stream of a trace file's text. A file that starts with gzip's magic bytes is inflated by
/// ISA-L's igzip (streaming, the CRC and length of each member checked; members may follow
/// one another, and bytes after the last that are not a gzip member are ignored, as zlib's
/// gzread does); any other file is read as it is. igzip inflates a trace in about 2.2x fewer
/// instructions than zlib 1.2's inflate and crc32, which made reading most of what a sampled
/// miss-ratio curve costs.
class TraceText {
 public:
  /// Opens `path`. Throws Error{kIo} if it cannot be opened or read.
  explicit TraceText(const std::string& path);
  ~TraceText();
  TraceText(const TraceText&) = delete;
  TraceText& operator=(const TraceText&) = delete;

  /// Reads up to `capacity` (> 0) bytes of text into `out`; 0 at the end of the text.
  /// Throws Error{kIo} for a read error and Error{kCorrupt} for a corrupt or truncated gzip
  /// stream, each message starting with `context`.
  std::size_t read(char* out, std::size_t capacity, const std::string& context);

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };

  bool refill();  // reads more of the file after the unconsumed input; false at its end
  [[nodiscard]] bool next_member();  // starts the next gzip member; false if none follows
  std::size_t inflate(char* out, std::size_t capacity, const std::string& context);

  std::unique_ptr<std::FILE, FileCloser> file_;
  std::string path_;
  std::vector<std::uint8_t> in_;  // file bytes; [in_pos_, in_end_) not yet consumed
  std::size_t in_pos_ = 0;
  std::size_t in_end_ = 0;
  bool eof_ = false;
  std::unique_ptr<inflate_state> gzip_;  // null: a plain file
  bool finished_ = false;                // the current gzip member has ended
};

}  // namespace stratacache::predict
