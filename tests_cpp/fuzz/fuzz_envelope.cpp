// libFuzzer target for envelope decoding: any bytes, read by a plain, a signing, an encrypting
// and an encrypt_fields codec, must decode or fail with kCorrupt, kUnknownVersion, kTampered or
// kTooLarge; crashes, leaks, exceptions and undefined behaviour are findings. A plain decode must
// also re-encode to an envelope that decodes to the same payload. The bytes are also opened as a
// sealed field value (codec/field_cipher.hpp).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "../codec/codec_test_support.hpp"
#include "codec/codec.hpp"
#include "codec/field_cipher.hpp"

namespace {

using stratacache::ErrorCode;
using namespace stratacache::codec;

void check(const Codec& codec, std::string_view bytes) {
  const stratacache::Result<Decoded> decoded = codec.decode("fuzz:key", bytes);
  if (!decoded.ok()) {
    const ErrorCode code = decoded.error().code;
    if (code != ErrorCode::kCorrupt && code != ErrorCode::kTampered &&
        code != ErrorCode::kTooLarge && code != ErrorCode::kUnknownVersion) {
      std::abort();
    }
    return;
  }
  const Decoded& d = decoded.value();
  if (d.payload.size() > codec.config().max_value_bytes) std::abort();
  if (d.serializer == Serializer::kPickle && codec.config().signing_keys.empty() &&
      codec.config().encryption_keys.empty()) {
    std::abort();
  }
  const stratacache::Result<Decoded> again =
      codec.decode("fuzz:key", codec.encode("fuzz:key", d.serializer, d.payload, d.metadata));
  if (!again.ok() || again.value().payload != d.payload || again.value().metadata != d.metadata) {
    std::abort();
  }
}

/// The same bytes as a sealed field value: opens or fails with kCorrupt or kTampered.
void check_field(const Keyring& keys, std::string_view bytes) {
  const stratacache::Result<std::string> opened = open_field(keys, "fuzz:key", "password", bytes);
  if (!opened.ok() && opened.error().code != ErrorCode::kCorrupt &&
      opened.error().code != ErrorCode::kTampered) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using testing::make_codec;
  using testing::Protection;
  static const Codec plain = make_codec(Compression::kLz4, Protection::kPlain, 1 << 20);
  static const Codec signer = make_codec(Compression::kZstd, Protection::kSigned, 1 << 20);
  static const Codec sealer = make_codec(Compression::kLz4, Protection::kEncrypted, 1 << 20);
  static const Codec fielder = make_codec(Compression::kLz4, Protection::kFields, 1 << 20);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check(plain, bytes);
  check(signer, bytes);
  check(sealer, bytes);
  check(fielder, bytes);
  check_field(sealer.config().encryption_keys, bytes);
  return 0;
}
