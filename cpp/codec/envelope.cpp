#include "codec/envelope.hpp"

#include <string>

namespace stratacache::codec {
namespace {

constexpr char kMagic0 = 'S';
constexpr char kMagic1 = 'C';
constexpr std::uint8_t kKnownFlags = kFlagEncrypted | kFlagSigned | kFlagFields;

template <class U>
void put_le(std::string& out, U value) {
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(value >> (8 * i))));
  }
}

/// A bounds-checked little-endian reader: every read reports whether the bytes were there.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  template <class U>
  bool get(U& value) {
    if (bytes_.size() - pos_ < sizeof(U)) return false;
    U v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) {
      v = static_cast<U>(
          v |
          static_cast<U>(static_cast<U>(static_cast<std::uint8_t>(bytes_[pos_ + i])) << (8 * i)));
    }
    value = v;
    pos_ += sizeof(U);
    return true;
  }

  bool take(std::size_t n, std::string_view& out) {
    if (bytes_.size() - pos_ < n) return false;
    out = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

Failure corrupt(const char* what) { return fail(ErrorCode::kCorrupt, what); }

Result<Header> parse_header(Reader& r, std::size_t max_value_bytes) {
  std::uint8_t m0 = 0, m1 = 0;
  Header h;
  std::uint8_t serializer = 0, compression = 0;
  if (!r.get(m0) || !r.get(m1) || !r.get(h.version)) return corrupt("envelope: truncated header");
  if (m0 != static_cast<std::uint8_t>(kMagic0) || m1 != static_cast<std::uint8_t>(kMagic1)) {
    return corrupt("envelope: bad magic");
  }
  if (h.version != kFormatVersion) {
    // Magic and version are the only bytes every format version is promised to share.
    return fail(ErrorCode::kUnknownVersion,
                "envelope: unsupported format version " + std::to_string(h.version));
  }
  if (!r.get(serializer) || !r.get(compression) || !r.get(h.flags) || !r.get(h.key_id) ||
      !r.get(h.payload_size)) {
    return corrupt("envelope: truncated header");
  }
  if (serializer < 1 || serializer > 3) return corrupt("envelope: unknown serializer id");
  if (compression > 2) return corrupt("envelope: unknown compression id");
  if ((h.flags & ~kKnownFlags) != 0 || (h.flags & (h.flags - 1U)) != 0) {
    return corrupt("envelope: invalid flags");
  }
  if (h.payload_size > max_value_bytes) {
    return fail(ErrorCode::kTooLarge, "envelope: declared payload size " +
                                          std::to_string(h.payload_size) +
                                          " exceeds max_value_bytes");
  }
  h.serializer = static_cast<Serializer>(serializer);
  h.compression = static_cast<Compression>(compression);
  return h;
}

/// True if `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF): tag names become Python str, so anything else is a corrupt envelope.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0Fu, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07u, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<std::uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

Result<Metadata> parse_metadata(Reader& r) {
  Metadata m;
  std::uint8_t count = 0;
  if (!r.get(m.created_at_ms) || !r.get(m.ttl_ms) || !r.get(m.compute_us) || !r.get(count)) {
    return corrupt("envelope: truncated metadata");
  }
  if (count > kMaxTags) return corrupt("envelope: too many tags");
  m.tags.reserve(count);
  for (std::uint8_t i = 0; i < count; ++i) {
    std::uint8_t len = 0;
    std::string_view tag;
    TagVersion tv;
    if (!r.get(len) || !r.take(len, tag) || !r.get(tv.version)) {
      return corrupt("envelope: truncated tag list");
    }
    if (!valid_utf8(tag)) return corrupt("envelope: a tag name is not UTF-8");
    tv.tag.assign(tag);
    m.tags.push_back(std::move(tv));
  }
  return m;
}

}  // namespace

void write_prefix(const Header& header, const Metadata& metadata, std::string& out) {
  if (metadata.tags.size() > kMaxTags) {
    throw Error(ErrorCode::kTooLarge, "envelope: more than " + std::to_string(kMaxTags) + " tags");
  }
  out.push_back(kMagic0);
  out.push_back(kMagic1);
  put_le(out, header.version);
  put_le(out, static_cast<std::uint8_t>(header.serializer));
  put_le(out, static_cast<std::uint8_t>(header.compression));
  put_le(out, header.flags);
  put_le(out, header.key_id);
  put_le(out, header.payload_size);
  put_le(out, metadata.created_at_ms);
  put_le(out, metadata.ttl_ms);
  put_le(out, metadata.compute_us);
  put_le(out, static_cast<std::uint8_t>(metadata.tags.size()));
  for (const TagVersion& tv : metadata.tags) {
    if (tv.tag.size() > kMaxTagBytes) {
      throw Error(ErrorCode::kTooLarge, "envelope: a tag is longer than 255 bytes");
    }
    put_le(out, static_cast<std::uint8_t>(tv.tag.size()));
    out.append(tv.tag);
    put_le(out, tv.version);
  }
}

Result<EnvelopeView> parse_envelope(std::string_view bytes, std::size_t max_value_bytes) {
  Reader r(bytes);
  Result<Header> header = parse_header(r, max_value_bytes);
  if (!header) return header.error();
  Result<Metadata> metadata = parse_metadata(r);
  if (!metadata) return metadata.error();
  EnvelopeView view{std::move(header).value(), std::move(metadata).value(),
                    bytes.substr(0, r.pos()), bytes.substr(r.pos())};
  return view;
}

}  // namespace stratacache::codec
