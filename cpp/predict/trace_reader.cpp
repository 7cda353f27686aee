#include "predict/trace_reader.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

// Big reads amortise zlib's per-call cost; the parser then scans memory with memchr.
constexpr std::size_t kChunk = std::size_t{1} << 20;
// No valid line is longer: 19 digits and a sign. Anything longer is corrupt, not buffered.
constexpr std::size_t kMaxLine = 20;

struct GzCloser {
  void operator()(gzFile_s* f) const noexcept { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

[[noreturn]] void corrupt(const std::string& path, std::uint64_t line, std::string_view text) {
  std::string shown(text.substr(0, 40));
  if (text.size() > 40) shown += "...";
  throw Error(ErrorCode::kCorrupt, path + ":" + std::to_string(line) +
                                       ": expected one integer key per line, got '" + shown + "'");
}

// Parses ^-?[0-9]+$ into an int64; false on anything else, including overflow.
bool parse_key(std::string_view s, std::int64_t& out) noexcept {
  const bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty()) return false;
  std::uint64_t v = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (const char c : s) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(c) - '0');
    if (d > 9 || v > (kMax - d) / 10) return false;
    v = v * 10 + d;
  }
  const std::uint64_t limit = std::uint64_t{std::numeric_limits<std::int64_t>::max()} + negative;
  if (v > limit) return false;
  out = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
  return true;
}

}  // namespace

std::vector<std::int64_t> read_trace(const std::string& path) {
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) {
    throw Error(ErrorCode::kIo, "cannot open trace '" + path + "': " + std::strerror(errno));
  }
  gzbuffer(file.get(), 1 << 17);
  std::vector<std::int64_t> keys;
  std::vector<char> buf(kChunk);
  std::size_t have = 0;  // bytes of an unfinished line kept at the front of buf
  std::uint64_t line = 1;
  const auto take = [&](std::string_view text) {
    std::int64_t key;
    if (!parse_key(text, key)) corrupt(path, line, text);
    keys.push_back(key);
    ++line;
  };
  const auto fail = [&](int code, const char* msg) {
    throw Error(code == Z_ERRNO ? ErrorCode::kIo : ErrorCode::kCorrupt,
                "cannot read trace '" + path + "' after line " + std::to_string(line - 1) + ": " +
                    (code == Z_ERRNO ? std::strerror(errno) : msg));
  };
  for (;;) {
    const int n = gzread(file.get(), buf.data() + have, static_cast<unsigned>(buf.size() - have));
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(file.get(), &code);
      fail(code, msg);
    }
    if (n == 0) break;
    const char* p = buf.data();
    const char* const end = buf.data() + have + static_cast<std::size_t>(n);
    while (const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p))) {
      take(std::string_view(p, static_cast<std::size_t>(nl - p)));
      p = nl + 1;
    }
    have = static_cast<std::size_t>(end - p);
    if (have > kMaxLine) corrupt(path, line, std::string_view(p, have));
    std::memmove(buf.data(), p, have);
  }
  // A gzip stream cut short ends like a file, with Z_BUF_ERROR left behind.
  int code = 0;
  const char* msg = gzerror(file.get(), &code);
  if (code != Z_OK) fail(code, msg);
  if (have > 0) take(std::string_view(buf.data(), have));  // last line without '\n'
  return keys;
}

}  // namespace stratacache::predict
