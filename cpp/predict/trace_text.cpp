#include "predict/trace_text.hpp"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

// Compressed bytes read from the file at a time.
constexpr std::size_t kInput = std::size_t{1} << 18;

bool gzip_magic(const std::uint8_t* p) noexcept { return p[0] == 0x1f && p[1] == 0x8b; }

const char* isal_message(int rc) noexcept {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid deflate distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "incorrect data check";
    default:
      return "corrupt gzip stream";
  }
}

}  // namespace

TraceText::TraceText(const std::string& path) : file_(std::fopen(path.c_str(), "rb")), path_(path) {
  if (!file_) {
    throw Error(ErrorCode::kIo, "cannot open trace '" + path + "': " + std::strerror(errno));
  }
  in_.resize(kInput);
  if (!refill()) return;  // empty; a read error has thrown
  while (in_end_ < 2 && refill()) {
  }
  if (in_end_ >= 2 && gzip_magic(in_.data())) {
    gzip_ = std::make_unique<inflate_state>();
    isal_inflate_init(gzip_.get());
    gzip_->crc_flag = ISAL_GZIP;
  }
}

TraceText::~TraceText() = default;

bool TraceText::refill() {
  if (eof_) return false;
  std::memmove(in_.data(), in_.data() + in_pos_, in_end_ - in_pos_);
  in_end_ -= in_pos_;
  in_pos_ = 0;
  const std::size_t n = std::fread(in_.data() + in_end_, 1, in_.size() - in_end_, file_.get());
  if (n == 0 && std::ferror(file_.get())) {
    throw Error(ErrorCode::kIo, "cannot read trace '" + path_ + "': " + std::strerror(errno));
  }
  if (n == 0) eof_ = true;
  in_end_ += n;
  return n > 0;
}

bool TraceText::next_member() {
  while (in_end_ - in_pos_ < 2 && refill()) {
  }
  if (in_end_ - in_pos_ < 2 || !gzip_magic(in_.data() + in_pos_)) return false;  // trailing bytes
  isal_inflate_reset(gzip_.get());
  gzip_->crc_flag = ISAL_GZIP;
  finished_ = false;
  return true;
}

std::size_t TraceText::read(char* out, std::size_t capacity, const std::string& context) {
  if (gzip_) return inflate(out, capacity, context);
  for (;;) {
    if (in_pos_ < in_end_) {
      const std::size_t n = std::min(capacity, in_end_ - in_pos_);
      std::memcpy(out, in_.data() + in_pos_, n);
      in_pos_ += n;
      return n;
    }
    if (!refill()) return 0;
  }
}

std::size_t TraceText::inflate(char* out, std::size_t capacity, const std::string& context) {
  inflate_state& s = *gzip_;
  for (;;) {
    if (finished_ && !next_member()) return 0;
    if (in_pos_ == in_end_) refill();  // at the end, igzip may still hold output to flush
    s.next_in = in_.data() + in_pos_;
    s.avail_in = static_cast<std::uint32_t>(in_end_ - in_pos_);
    s.next_out = reinterpret_cast<std::uint8_t*>(out);
    s.avail_out = static_cast<std::uint32_t>(std::min<std::size_t>(capacity, UINT32_MAX));
    const int rc = isal_inflate(&s);
    in_pos_ = in_end_ - s.avail_in;
    if (rc != ISAL_DECOMP_OK) throw Error(ErrorCode::kCorrupt, context + isal_message(rc));
    finished_ = s.block_state == ISAL_BLOCK_FINISH;
    const std::size_t n =
        static_cast<std::size_t>(s.next_out - reinterpret_cast<std::uint8_t*>(out));
    if (n > 0) return n;
    if (!finished_ && in_pos_ == in_end_ && eof_) {
      throw Error(ErrorCode::kCorrupt, context + "unexpected end of file");
    }
  }
}

}  // namespace stratacache::predict
