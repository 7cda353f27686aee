// Codec and SecretKey: the envelope (cpp/codec) around the msgpack walk (py_msgpack.hpp).
// GIL: the walks touch Python objects and keep it; compression and encryption release it
// above `release_gil_above` bytes, where they take long enough for the switch to pay.
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "bind_registry.hpp"
#include "codec/codec.hpp"
#include "py_msgpack.hpp"
#include "py_store.hpp"

namespace stratacache::bindings {
namespace {

using KeyList = std::vector<std::pair<std::uint16_t, codec::SecretKey>>;
using TagList = std::optional<std::vector<std::pair<std::string, std::uint64_t>>>;

/// The Python `Codec` object: the engine codec plus what the walks need.
struct CodecHandle {
  std::unique_ptr<codec::Codec> codec;
  ExtRegistry types;
  FieldCrypt fields;
  std::size_t max_depth = 64;
  std::size_t release_gil_above = 0;
  /// loader(serializer id, payload bytes): the value of a json or pickle payload, for
  /// open_value (a module-level function: a bound method would be a cycle the GC cannot see).
  py::object loader;

  [[nodiscard]] WalkOptions walk(std::string_view key, bool packing) const {
    const bool sealing = !packing || !fields.names.empty();
    return WalkOptions{.max_depth = max_depth,
                       .limits = codec->config().limits,
                       .types = &types,
                       .fields = sealing ? &fields : nullptr,
                       .cache_key = key};
  }
};

codec::Keyring keyring(const KeyList& keys) {
  codec::Keyring ring;
  for (const auto& [id, key] : keys) ring.add(id, key);
  return ring;
}

codec::Compression compression_of(const std::string& name) {
  if (name == "lz4") return codec::Compression::kLz4;
  if (name == "zstd") return codec::Compression::kZstd;
  if (name == "none") return codec::Compression::kNone;
  throw Error(ErrorCode::kInvalidConfig, "compression must be \"lz4\", \"zstd\" or None");
}

std::unique_ptr<CodecHandle> make_codec_shim(
    const std::string& compression, std::size_t compress_threshold, int zstd_level,
    const KeyList& encryption_keys, const KeyList& signing_keys, const KeyList& field_keys,
    std::vector<std::string> encrypt_fields, std::size_t max_value_bytes, std::size_t max_depth,
    std::size_t max_items, std::size_t max_decoded_bytes, std::size_t release_gil_above,
    py::object placeholder, py::object loader) {
  init_msgpack_types();
  codec::CodecConfig config;
  config.compression.algorithm = compression_of(compression);
  config.compression.threshold = compress_threshold;
  config.compression.zstd_level = zstd_level;
  config.encryption_keys = keyring(encryption_keys);
  config.signing_keys = keyring(signing_keys);
  config.field_keys = keyring(field_keys);
  config.max_value_bytes = max_value_bytes;
  // Zero derives the bound from max_value_bytes (codec/decode_limits.hpp).
  config.limits = codec::DecodeLimits{
      .max_items = max_items, .max_bytes = max_decoded_bytes, .max_depth = max_depth};
  auto h = std::make_unique<CodecHandle>();
  h->codec = std::make_unique<codec::Codec>(std::move(config));
  h->fields = FieldCrypt{keyring(field_keys), std::move(encrypt_fields), std::move(placeholder)};
  h->max_depth = max_depth;
  h->release_gil_above = release_gil_above;
  h->loader = std::move(loader);
  return h;
}

std::string_view key_view(const py::handle& key) {
  std::string_view k;
  if (!key_bytes(key.ptr(), k)) throw py::error_already_set();
  return k;
}

codec::Metadata metadata_shim(std::optional<std::int64_t> created_at_ms, std::uint64_t ttl_ms,
                              std::uint64_t compute_us, TagList tags) {
  codec::Metadata m{.created_at_ms = 0, .ttl_ms = ttl_ms, .compute_us = compute_us, .tags = {}};
  m.created_at_ms = created_at_ms ? *created_at_ms
                                  : std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
  if (tags) {
    for (auto& [tag, version] : *tags) m.tags.push_back({std::move(tag), version});
  }
  return m;
}

py::bytes envelope(const CodecHandle& h, std::string_view key, codec::Serializer serializer,
                   std::string_view payload, const codec::Metadata& meta) {
  std::string out;
  if (payload.size() > h.release_gil_above) {
    // Compression and encryption of a large payload read only C++ memory: `payload` and `key`
    // are kept alive by the caller's references.
    py::gil_scoped_release unlocked;
    out = h.codec->encode(key, serializer, payload, meta);
  } else {
    out = h.codec->encode(key, serializer, payload, meta);
  }
  return {out.data(), out.size()};
}

py::bytes pack_shim(const CodecHandle& h, const py::handle& key, const py::handle& value,
                    std::optional<std::int64_t> created_at_ms, std::uint64_t ttl_ms,
                    std::uint64_t compute_us, TagList tags) {
  const std::string_view k = key_view(key);
  std::string payload;
  pack_value(value.ptr(), h.walk(k, true), payload);
  return envelope(h, k, codec::Serializer::kMsgpack, payload,
                  metadata_shim(created_at_ms, ttl_ms, compute_us, std::move(tags)));
}

/// pack() with empty metadata created now, for Codec.encode.
py::bytes pack_value_shim(const CodecHandle& h, const py::handle& key, const py::handle& value) {
  return pack_shim(h, key, value, std::nullopt, 0, 0, std::nullopt);
}

py::bytes seal_shim(const CodecHandle& h, const py::handle& key, int serializer,
                    const py::bytes& payload, std::optional<std::int64_t> created_at_ms,
                    std::uint64_t ttl_ms, std::uint64_t compute_us, TagList tags) {
  if (serializer < 1 || serializer > 3) throw py::value_error("unknown serializer id");
  return envelope(h, key_view(key), static_cast<codec::Serializer>(serializer),
                  std::string_view(payload),
                  metadata_shim(created_at_ms, ttl_ms, compute_us, std::move(tags)));
}

py::object unpack_shim(const CodecHandle& h, std::string_view key, std::string_view payload) {
  try {
    return unpack_value(payload, h.walk(key, false));
  } catch (py::error_already_set& e) {
    // A value the bytes describe but Python refuses (month 13, a decoder that raises) is bad
    // data like any other; memory errors and interrupts are not.
    if (!e.matches(PyExc_Exception) || e.matches(PyExc_MemoryError)) throw;
    const py::object cls = py::module_::import("stratacache.errors").attr("CorruptDataError");
    py::raise_from(e, cls.ptr(), "codec: the payload describes a value that cannot be rebuilt");
    throw py::error_already_set();
  }
}

/// The bytes of `data`: a view of a bytes object, or a copy of any other buffer (a bytearray
/// could be resized by another thread while the GIL is released).
std::string_view data_view(const py::handle& data, std::string& copy) {
  if (PyBytes_CheckExact(data.ptr())) {
    return {PyBytes_AS_STRING(data.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(data.ptr()))};
  }
  if (!PyObject_CheckBuffer(data.ptr())) {
    throw py::type_error(std::string("data must be bytes, not ") + Py_TYPE(data.ptr())->tp_name);
  }
  const py::buffer_info info = py::reinterpret_borrow<py::buffer>(data).request();
  copy.assign(static_cast<const char*>(info.ptr),
              static_cast<std::size_t>(info.size * info.itemsize));
  return copy;
}

Result<codec::Decoded> decode_envelope(const CodecHandle& h, std::string_view key,
                                       std::string_view bytes) {
  auto decode = [&] { return h.codec->decode(key, bytes); };
  if (bytes.size() <= h.release_gil_above) return decode();
  // Decryption and decompression read only `bytes`, which the caller keeps alive.
  py::gil_scoped_release unlocked;
  return decode();
}

codec::Decoded open_envelope(const CodecHandle& h, std::string_view key, std::string_view bytes) {
  Result<codec::Decoded> decoded = decode_envelope(h, key, bytes);
  if (!decoded) decoded.rethrow();
  return std::move(decoded).value();
}

/// The msgpack value itself, or the payload bytes for the Python serializers.
py::object payload_value(const CodecHandle& h, std::string_view key, const codec::Decoded& d) {
  return d.serializer == codec::Serializer::kMsgpack
             ? unpack_shim(h, key, d.payload)
             : py::bytes(d.payload.data(), d.payload.size());
}

py::tuple entry_tuple(const codec::Decoded& d, py::object value) {
  py::dict tags;
  for (const codec::TagVersion& tv : d.metadata.tags) {
    tags[py::str(tv.tag)] = py::int_(tv.version);
  }
  return py::make_tuple(static_cast<int>(d.serializer), std::move(value), d.metadata.created_at_ms,
                        d.metadata.ttl_ms, d.metadata.compute_us, std::move(tags));
}

py::tuple open_shim(const CodecHandle& h, const py::handle& key, const py::handle& data) {
  const std::string_view k = key_view(key);
  std::string copy;
  const codec::Decoded d = open_envelope(h, k, data_view(data, copy));
  return entry_tuple(d, payload_value(h, k, d));
}

py::str reason_str(std::string_view reason) { return {reason.data(), reason.size()}; }

/// Called inside a catch block of the walk: the reason bad bytes are counted under, or the
/// exception rethrown when it is no such thing. A registered decoder's exception is the user's
/// code failing and propagates, unless it is a CodecError: the decoder's own verdict.
std::string_view walk_failure_reason() {
  try {
    throw;
  } catch (DecoderRaised& e) {
    if (!e.matches(py::module_::import("stratacache.errors").attr("CodecError"))) throw;
    return "corrupt";
  } catch (py::error_already_set& e) {
    // A value the bytes describe but Python refuses (month 13); memory errors are not bad bytes.
    if (!e.matches(PyExc_Exception) || e.matches(PyExc_MemoryError)) throw;
    return "corrupt";
  } catch (const Error& e) {
    const std::string_view reason = codec::decode_failure_reason(e.code());
    if (reason.empty()) throw;
    return reason;
  }
}

/// open() that reports bad bytes instead of raising them: open()'s tuple, or the reason as a
/// str (codec::decode_failure_reason). Argument errors and bugs still raise.
py::object try_open_shim(const CodecHandle& h, const py::handle& key, const py::handle& data) {
  const std::string_view k = key_view(key);
  std::string copy;
  const Result<codec::Decoded> decoded = decode_envelope(h, k, data_view(data, copy));
  if (!decoded) {
    const std::string_view reason = codec::decode_failure_reason(decoded.error().code);
    if (reason.empty()) decoded.rethrow();
    return reason_str(reason);
  }
  const codec::Decoded& d = decoded.value();
  if (d.serializer != codec::Serializer::kMsgpack) {
    return entry_tuple(d, py::bytes(d.payload.data(), d.payload.size()));
  }
  try {
    return entry_tuple(d, unpack_value(d.payload, h.walk(k, false)));
  } catch (...) {
    return reason_str(walk_failure_reason());
  }
}

/// The value alone, for Codec.decode: no metadata, and the json and pickle payloads loaded by
/// `h.loader`, so that the common msgpack read builds no tuple and runs no Python of ours.
py::object open_value_shim(const CodecHandle& h, const py::handle& key, const py::handle& data) {
  const std::string_view k = key_view(key);
  std::string copy;
  const codec::Decoded d = open_envelope(h, k, data_view(data, copy));
  if (d.serializer == codec::Serializer::kMsgpack) return unpack_shim(h, k, d.payload);
  return h.loader(static_cast<int>(d.serializer), py::bytes(d.payload.data(), d.payload.size()));
}

void register_type_shim(CodecHandle& h, py::object cls, int code, py::object encode,
                        py::object decode) {
  if (code < kFirstUserExt || code > kLastUserExt) {
    throw Error(ErrorCode::kInvalidConfig, "register_type: code must be in [" +
                                               std::to_string(kFirstUserExt) + ", " +
                                               std::to_string(kLastUserExt) + "]");
  }
  h.types.add(ExtType{static_cast<std::int8_t>(code), std::move(cls), std::move(encode),
                      std::move(decode)});
}

std::string key_repr(const codec::SecretKey& key) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "<SecretKey fingerprint=0x%04x>", codec::key_fingerprint(key));
  return buf;
}

void bind_secret_key(py::module_& m) {
  py::class_<codec::SecretKey>(m, "SecretKey")
      .def(py::init([](const py::bytes& raw) { return codec::SecretKey(std::string_view(raw)); }),
           py::arg("raw"))
      .def_static(
          "from_passphrase",
          [](const std::string& passphrase, const py::bytes& salt, std::uint32_t iterations) {
            const std::string s = salt;
            // Hundreds of thousands of HMAC rounds over copies; no Python object is touched.
            py::gil_scoped_release unlocked;
            return codec::SecretKey::from_passphrase(passphrase, s, iterations);
          },
          py::arg("passphrase"), py::arg("salt"), py::arg("iterations"))
      .def_static(
          "from_hkdf",
          [](const py::bytes& ikm, const py::bytes& salt, const py::bytes& info) {
            return codec::SecretKey::from_hkdf(std::string_view(ikm), std::string_view(salt),
                                               std::string_view(info));
          },
          py::arg("ikm"), py::arg("salt"), py::arg("info"))
      .def_property_readonly("fingerprint", &codec::key_fingerprint)
      .def("__repr__", &key_repr);
}

}  // namespace

void bind_codec(py::module_& m) {
  bind_secret_key(m);
  py::class_<CodecHandle>(m, "Codec")
      .def(py::init(&make_codec_shim), py::arg("compression"), py::arg("compress_threshold"),
           py::arg("zstd_level"), py::arg("encryption_keys"), py::arg("signing_keys"),
           py::arg("field_keys"), py::arg("encrypt_fields"), py::arg("max_value_bytes"),
           py::arg("max_depth"), py::arg("max_items"), py::arg("max_decoded_bytes"),
           py::arg("release_gil_above"), py::arg("placeholder"), py::arg("loader"))
      .def("pack", &pack_shim, py::arg("key"), py::arg("value"), py::arg("created_at_ms"),
           py::arg("ttl_ms"), py::arg("compute_us"), py::arg("tags"))
      .def("seal", &seal_shim, py::arg("key"), py::arg("serializer"), py::arg("payload"),
           py::arg("created_at_ms"), py::arg("ttl_ms"), py::arg("compute_us"), py::arg("tags"))
      .def("pack_value", &pack_value_shim, py::arg("key"), py::arg("value"))
      .def("open", &open_shim, py::arg("key"), py::arg("data"))
      .def("try_open", &try_open_shim, py::arg("key"), py::arg("data"))
      .def("open_value", &open_value_shim, py::arg("key"), py::arg("data"))
      .def("register_type", &register_type_shim, py::arg("cls"), py::arg("code"), py::arg("encode"),
           py::arg("decode"))
      .def(
          "check_json",
          [](const CodecHandle& h, const py::handle& value) {
            check_json(value.ptr(), h.max_depth);
          },
          py::arg("value"));
}

}  // namespace stratacache::bindings
