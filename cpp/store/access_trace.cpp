#include "store/access_trace.hpp"

#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <vector>

#include "common/error.hpp"

namespace stratacache::store {
namespace {

// Records are formatted into a buffer this big, then compressed in one call.
constexpr std::size_t kChunk = std::size_t{1} << 20;
// Longest line: 20 + 1 + 1 + 20 + 1 + 10 + 1 characters.
constexpr std::size_t kMaxLine = 64;

struct GzCloser {
  void operator()(gzFile_s* f) const noexcept { gzclose(f); }
};

[[noreturn]] void cannot_write(const std::string& path, const std::string& why) {
  throw Error(ErrorCode::kIo, "cannot write trace '" + path + "': " + why);
}

template <class T>
char* put(char* p, T value) {
  return std::to_chars(p, p + 24, value).ptr;
}

}  // namespace

std::uint64_t write_trace(const std::string& path, std::span<const AccessRecord> records,
                          double sample_rate) {
  // Level 1: the digits of hashes barely compress further, and writing stays I/O-bound.
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "wb1"));
  if (!file) cannot_write(path, std::strerror(errno));
  std::vector<char> buf(kChunk + kMaxLine);
  char* p = buf.data();
  const auto flush = [&] {
    const auto n = static_cast<unsigned>(p - buf.data());
    if (n != 0 && gzwrite(file.get(), buf.data(), n) != static_cast<int>(n)) {
      int code = 0;
      const char* msg = gzerror(file.get(), &code);
      cannot_write(path, code == Z_ERRNO ? std::strerror(errno) : msg);
    }
    p = buf.data();
  };
  const std::string header =
      std::string(kTraceMagic) + std::string(kTraceVersion) + " sample_rate=";
  p = std::copy(header.begin(), header.end(), p);
  p = put(p, sample_rate);
  *p++ = '\n';
  for (const AccessRecord& r : records) {
    p = put(p, r.time);
    *p++ = ' ';
    *p++ = op_letter(r.op);
    *p++ = ' ';
    p = put(p, r.key_hash);
    *p++ = ' ';
    p = put(p, r.namespace_hash);
    *p++ = '\n';
    if (static_cast<std::size_t>(p - buf.data()) >= kChunk) flush();
  }
  flush();
  // gzclose writes the trailer: its failure is a failed write too.
  if (gzclose(file.release()) != Z_OK) cannot_write(path, "closing the gzip stream failed");
  return records.size();
}

}  // namespace stratacache::store
