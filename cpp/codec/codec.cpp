#include "codec/codec.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

namespace stratacache::codec {
namespace {

// Signed envelopes put the key's length before it, so no (body, key) split can be shifted into
// another with the same MAC input.
std::array<char, 4> le32(std::size_t n) {
  const auto v = static_cast<std::uint32_t>(n);
  return {static_cast<char>(v & 0xFFU), static_cast<char>((v >> 8) & 0xFFU),
          static_cast<char>((v >> 16) & 0xFFU), static_cast<char>((v >> 24) & 0xFFU)};
}

Failure tampered(const char* what) { return fail(ErrorCode::kTampered, what); }

// HKDF info of the whole-envelope MAC key in fields mode: never the key that seals fields.
constexpr std::string_view kFieldsMacInfo = "stratacache fields envelope mac v1";

std::array<std::uint8_t, kMacBytes> envelope_mac(const SecretKey& secret, std::string_view key,
                                                 std::string_view prefix, std::string_view body) {
  const std::array<char, 4> key_len = le32(key.size());
  const std::array<std::string_view, 4> parts{std::string_view(key_len.data(), key_len.size()), key,
                                              prefix, body};
  return hmac_sha256(secret, parts);
}

/// The body before its trailing MAC, or kCorrupt when too short to hold one.
Result<std::string_view> before_mac(std::string_view body) {
  if (body.size() < kMacBytes) return fail(ErrorCode::kCorrupt, "codec: truncated MAC");
  return body.substr(0, body.size() - kMacBytes);
}

}  // namespace

std::string_view decode_failure_reason(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kUnknownVersion:
      return "unknown_version";
    case ErrorCode::kTampered:
      return "tampered";
    case ErrorCode::kTooLarge:
      return "too_large";
    default:
      return {};
  }
}

Codec::Codec(CodecConfig config) : config_(std::move(config)) {
  if (config_.max_value_bytes > std::numeric_limits<std::uint32_t>::max()) {
    throw Error(ErrorCode::kInvalidConfig, "codec: max_value_bytes must be below 4 GiB");
  }
  if (config_.compression.min_saving < 0.0 || config_.compression.min_saving >= 1.0) {
    throw Error(ErrorCode::kInvalidConfig, "codec: min_saving must be in [0, 1)");
  }
  if (!config_.nonce_source) config_.nonce_source = random_nonce;
  field_macs_ = config_.field_keys.derived(kFieldsMacInfo);
  const DecodeLimits derived =
      DecodeLimits::derived(config_.max_value_bytes, config_.limits.max_depth);
  if (config_.limits.max_items == 0) config_.limits.max_items = derived.max_items;
  if (config_.limits.max_bytes == 0) config_.limits.max_bytes = derived.max_bytes;
}

std::string Codec::encode(std::string_view key, Serializer serializer, std::string_view payload,
                          const Metadata& metadata) const {
  if (payload.size() > config_.max_value_bytes) {
    throw Error(ErrorCode::kTooLarge, "codec: payload of " + std::to_string(payload.size()) +
                                          " bytes exceeds max_value_bytes");
  }
  Header header;
  header.serializer = serializer;
  header.payload_size = static_cast<std::uint32_t>(payload.size());
  if (!config_.encryption_keys.empty()) {
    header.flags = kFlagEncrypted;
    header.key_id = config_.encryption_keys.newest_id();
  } else if (!config_.signing_keys.empty()) {
    header.flags = kFlagSigned;
    header.key_id = config_.signing_keys.newest_id();
  } else if (!field_macs_.empty() && serializer != Serializer::kPickle) {
    header.flags = kFlagFields;
    header.key_id = field_macs_.newest_id();
  } else if (serializer == Serializer::kPickle) {
    throw Error(ErrorCode::kInvalidConfig, "codec: pickle needs a signing or encryption key");
  }
  if (serializer == Serializer::kJson) {
    // Refused here too, so that no reader with the same limits ever refuses what was written.
    if (std::optional<Failure> f = check_json_shape(payload, config_.limits)) {
      throw Error(f->code, f->message);
    }
  }
  std::optional<std::string> packed = compress(payload, config_.compression);
  if (packed) header.compression = config_.compression.algorithm;
  const std::string_view body = packed ? std::string_view(*packed) : payload;

  std::string out;
  out.reserve(kHeaderSize + 64 + body.size() + kNonceBytes + kGcmTagBytes + kMacBytes);
  write_prefix(header, metadata, out);
  protect(key, body, out);
  return out;
}

void Codec::protect(std::string_view key, std::string_view body, std::string& out) const {
  const std::size_t prefix_size = out.size();
  if (!config_.encryption_keys.empty()) {
    Nonce nonce{};
    config_.nonce_source(nonce);
    out.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
    // seal reads the associated data before it grows `out`, so this view stays valid.
    const std::array<std::string_view, 2> aad{std::string_view(out).substr(0, prefix_size), key};
    seal(config_.encryption_keys.newest(), nonce, aad, body, out);
    return;
  }
  const std::string_view prefix(out);
  const Keyring& macs = config_.signing_keys.empty() ? field_macs_ : config_.signing_keys;
  if (!macs.empty()) {
    const auto mac = envelope_mac(macs.newest(), key, prefix, body);
    out.append(body);
    out.append(reinterpret_cast<const char*>(mac.data()), mac.size());
    return;
  }
  out.append(body);
}

Result<std::string> Codec::unprotect(std::string_view key, const EnvelopeView& view) const {
  const std::uint8_t flags = view.header.flags;
  if (!config_.encryption_keys.empty()) {
    if (flags != kFlagEncrypted) return tampered("codec: expected an encrypted envelope");
    const SecretKey* secret = config_.encryption_keys.find(view.header.key_id);
    if (secret == nullptr) return tampered("codec: unknown encryption key id");
    if (view.body.size() < kNonceBytes + kGcmTagBytes) {
      return fail(ErrorCode::kCorrupt, "codec: truncated encrypted body");
    }
    if (view.body.size() - kNonceBytes - kGcmTagBytes > config_.max_value_bytes) {
      return fail(ErrorCode::kTooLarge, "codec: body exceeds max_value_bytes");
    }
    Nonce nonce{};
    std::copy_n(view.body.begin(), kNonceBytes, reinterpret_cast<char*>(nonce.data()));
    const std::array<std::string_view, 2> aad{view.prefix, key};
    return open(*secret, nonce, aad, view.body.substr(kNonceBytes));
  }
  const bool signing = !config_.signing_keys.empty();
  if (signing || !field_macs_.empty()) {
    if (flags != (signing ? kFlagSigned : kFlagFields)) {
      return tampered(signing ? "codec: expected a signed envelope"
                              : "codec: expected an authenticated envelope (encrypt_fields)");
    }
    const SecretKey* secret =
        (signing ? config_.signing_keys : field_macs_).find(view.header.key_id);
    if (secret == nullptr) return tampered("codec: unknown signing key id");
    Result<std::string_view> body = before_mac(view.body);
    if (!body) return body.error();
    if (body.value().size() > config_.max_value_bytes) {
      return fail(ErrorCode::kTooLarge, "codec: body exceeds max_value_bytes");
    }
    if (!mac_equal(envelope_mac(*secret, key, view.prefix, body.value()),
                   view.body.substr(body.value().size()))) {
      return tampered("codec: signature mismatch");
    }
    return std::string(body.value());
  }
  std::string_view body = view.body;
  if (flags == kFlagFields) {
    // Without keys there is nothing to verify the MAC with: read the plaintext fields.
    Result<std::string_view> unverified = before_mac(body);
    if (!unverified) return unverified.error();
    body = unverified.value();
  } else if (flags != 0) {
    return tampered("codec: protected envelope but no key configured");
  }
  if (view.header.serializer == Serializer::kPickle) {
    return tampered("codec: refusing an unauthenticated pickle payload");
  }
  if (body.size() > config_.max_value_bytes) {
    return fail(ErrorCode::kTooLarge, "codec: body exceeds max_value_bytes");
  }
  return std::string(body);
}

Result<Decoded> Codec::decode(std::string_view key, std::string_view bytes) const {
  Result<EnvelopeView> view = parse_envelope(bytes, config_.max_value_bytes);
  if (!view) return view.error();
  const Header& header = view.value().header;
  Result<std::string> body = unprotect(key, view.value());
  if (!body) return body.error();
  Decoded decoded;
  decoded.serializer = header.serializer;
  decoded.metadata = std::move(view.value().metadata);
  if (header.compression == Compression::kNone) {
    if (body.value().size() != header.payload_size) {
      return fail(ErrorCode::kCorrupt, "codec: payload size mismatch");
    }
    decoded.payload = std::move(body).value();
  } else {
    Result<std::string> payload = decompress(header.compression, body.value(), header.payload_size);
    if (!payload) return payload.error();
    decoded.payload = std::move(payload).value();
  }
  if (decoded.serializer == Serializer::kJson) {
    // Python's json builds whatever the text describes: bound it before it runs.
    if (std::optional<Failure> f = check_json_shape(decoded.payload, config_.limits)) return *f;
  }
  return decoded;
}

}  // namespace stratacache::codec
