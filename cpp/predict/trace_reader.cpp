#include "predict/trace_reader.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <string_view>

#include "common/error.hpp"
#include "predict/trace_text.hpp"
#include "store/access_trace.hpp"

namespace stratacache::predict {
namespace {

// Big reads amortise the inflater's per-call cost; the parser then scans memory.
constexpr std::size_t kChunk = std::size_t{1} << 20;
// Bytes the word-at-a-time parser may read past the text (never used: it checks `end`).
constexpr std::size_t kSlack = 32;
// No valid line is longer: 19 digits and a sign. Anything longer is corrupt, not buffered.
constexpr std::size_t kMaxLine = 20;
// The same for a recorded trace's lines (store/access_trace.hpp), and its header.
constexpr std::size_t kMaxRecordLine = 64;

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

// The leading decimal digits of the 8 bytes at p (0 to 8) and, in `value`, the number they
// spell: a word at a time [1], where a loop over bytes costs a compare and a branch each.
// [1] D. Lemire, "Quickly parsing eight digits", 2018 (the SWAR multiplications).
unsigned leading_digits(const char* p, std::uint64_t& value) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  const std::uint64_t d = w ^ 0x3030303030303030ULL;  // a digit's byte becomes 0..9
  // High bit of each byte that is not a digit (carries only reach bytes after the first).
  const std::uint64_t other = ((d + 0x7676767676767676ULL) | d) & 0x8080808080808080ULL;
  const auto n = static_cast<unsigned>(std::countr_zero(other)) / 8;  // 8 if all digits
  if (n == 0) return 0;
  std::uint64_t v = d << (8 * (8 - n));  // the digits at the top, zeros (leading) below
  v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;
  v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL;
  value = (v * 10000 + (v >> 32)) & 0xFFFFFFFFULL;
  return n;
}

// Appends the keys of the lines at the front of [p, end) as long as they are plain (an
// optional '-', then 1 to 19 digits whose value fits an int64, then '\n'), counting them in
// `line`; returns where it stopped: at `end`, an unfinished line, or a line for `parse_key`.
// Bytes up to kSlack past `end` may be read, never used. Most of a trace's parsing time.
const char* take_plain_lines(const char* p, const char* end, std::vector<std::int64_t>& keys,
                             std::uint64_t& line) {
  constexpr unsigned kMaxDigits = 19;
  constexpr std::uint64_t kPow10[9] = {1,      10,      100,      1000,     10000,
                                       100000, 1000000, 10000000, 100000000};
  constexpr std::uint64_t kMaxKey = std::numeric_limits<std::int64_t>::max();
  while (p < end) {
    const bool negative = *p == '-';
    const char* q = p + (negative ? 1 : 0);
    std::uint64_t v = 0;
    unsigned n = leading_digits(q, v);
    unsigned digits = n;
    q += n;
    while (n == 8) {  // more digits in the next word
      std::uint64_t part = 0;
      n = leading_digits(q, part);
      if (digits + n > kMaxDigits) return p;  // parse_key decides (leading zeros, overflow)
      v = v * kPow10[n] + part;               // below 10^19: no overflow
      digits += n;
      q += n;
    }
    if (digits == 0 || q >= end || *q != '\n' || v > kMaxKey + (negative ? 1 : 0)) return p;
    keys.push_back(negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v));
    ++line;
    p = q + 1;
  }
  return p;
}

// Parses ^[0-9]+$ into a uint64 no larger than `max`; false on anything else.
bool parse_unsigned(std::string_view s, std::uint64_t max, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(c) - '0');
    if (d > 9 || v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// A recorded trace's line "t_ns op key_hash ns_hash". Reads (get hits and misses) are the
// requests a replay sees, keyed by the key hash; `key` is set for them only.
bool parse_record(std::string_view s, bool& is_read, std::int64_t& key) noexcept {
  std::string_view fields[4];
  for (int i = 0; i < 4; ++i) {
    const std::size_t sp = i < 3 ? s.find(' ') : s.size();
    if (sp == std::string_view::npos) return false;
    fields[i] = s.substr(0, sp);
    s.remove_prefix(i < 3 ? sp + 1 : sp);
  }
  std::int64_t time;
  std::uint64_t hash, ns;
  const auto op = fields[1].size() == 1 ? store::op_of_letter(fields[1][0]) : std::nullopt;
  if (!op || !parse_key(fields[0], time) ||
      !parse_unsigned(fields[2], std::numeric_limits<std::uint64_t>::max(), hash) ||
      !parse_unsigned(fields[3], std::numeric_limits<std::uint32_t>::max(), ns)) {
    return false;
  }
  is_read = *op == store::AccessOp::kGetHit || *op == store::AccessOp::kGetMiss;
  key = static_cast<std::int64_t>(hash);
  return true;
}

// True if the file starts with a recorded trace's header; throws kCorrupt for a version this
// build cannot read (callers of read_trace expect kCorrupt or kIo only).
bool recorded_header(const std::string& path, std::string_view first) {
  if (!first.starts_with(store::kTraceMagic)) return false;
  const std::string_view rest = first.substr(store::kTraceMagic.size());
  const std::string_view version = rest.substr(0, rest.find_first_of(" \n"));
  if (version != store::kTraceVersion) {
    throw Error(ErrorCode::kCorrupt, path + ": stratacache-trace version '" +
                                         std::string(version.substr(0, 16)) +
                                         "' is not supported (this build reads " +
                                         std::string(store::kTraceVersion) + ")");
  }
  return true;
}

}  // namespace

std::vector<std::int64_t> read_trace(const std::string& path) {
  std::vector<std::int64_t> keys;
  read_trace_chunks(path, [&](std::span<const std::int64_t> chunk) {
    keys.insert(keys.end(), chunk.begin(), chunk.end());
  });
  return keys;
}

void read_trace_chunks(const std::string& path,
                       const std::function<void(std::span<const std::int64_t>)>& consume) {
  TraceText text(path);
  // Keys of the current chunk of the file; handed over each time the buffer has been parsed.
  std::vector<std::int64_t> keys;
  keys.reserve(kChunk / 2);
  std::vector<char> buf(kChunk + kSlack);
  std::size_t have = 0;  // bytes of an unfinished line kept at the front of buf
  std::uint64_t line = 1;
  bool recorded = false;  // a recorded trace (store/access_trace.hpp), detected by its header
  std::size_t max_line = kMaxLine;
  const auto take = [&](std::string_view row) {
    std::int64_t key;
    if (recorded) {
      bool is_read = false;
      if (!parse_record(row, is_read, key)) {
        throw Error(ErrorCode::kCorrupt, path + ":" + std::to_string(line) +
                                             ": expected 't_ns op key_hash ns_hash', got '" +
                                             std::string(row.substr(0, 60)) + "'");
      }
      if (is_read) keys.push_back(key);
    } else {
      if (!parse_key(row, key)) corrupt(path, line, row);
      keys.push_back(key);
    }
    ++line;
  };
  for (;;) {
    // Fills the chunk (a recorded trace's header must be whole in the first).
    const std::string context =
        "cannot read trace '" + path + "' after line " + std::to_string(line - 1) + ": ";
    std::size_t n = 0;
    for (std::size_t got = 1; have + n < kChunk && got > 0; n += got) {
      got = text.read(buf.data() + have + n, kChunk - have - n, context);
    }
    if (n == 0) break;
    const char* p = buf.data();
    const char* const end = buf.data() + have + n;
    if (line == 1 && !recorded &&
        recorded_header(path, std::string_view(p, static_cast<std::size_t>(end - p)))) {
      recorded = true;
      max_line = kMaxRecordLine;
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      p = nl != nullptr ? nl + 1 : end;  // the header: nothing in it is a request
      ++line;
    }
    for (;;) {
      if (!recorded) p = take_plain_lines(p, end, keys, line);
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (nl == nullptr) break;
      take(std::string_view(p, static_cast<std::size_t>(nl - p)));  // parses or throws
      p = nl + 1;
    }
    have = static_cast<std::size_t>(end - p);
    if (have > max_line) corrupt(path, line, std::string_view(p, have));
    consume(keys);
    keys.clear();
    std::memmove(buf.data(), p, have);
  }
  if (have > 0) take(std::string_view(buf.data(), have));  // last line without '\n'
  if (!keys.empty()) consume(keys);
}

}  // namespace stratacache::predict
