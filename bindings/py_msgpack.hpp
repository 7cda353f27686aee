// Python objects to msgpack and back, with msgpack-c: the serializer behind
// Codec(serializer="msgpack"). Types msgpack has no family for travel as extension types whose
// codes are listed below; users register their own in [kFirstUserExt, kLastUserExt].
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/crypto.hpp"
#include "codec/decode_limits.hpp"

namespace stratacache::bindings {

namespace py = pybind11;

/// Extension codes of the built-in types; 0..31 are reserved for them.
enum class ExtCode : std::int8_t {
  kBigInt = 1,          ///< int outside [-2^63, 2^64): two's complement, big-endian
  kTuple = 2,           ///< body: a msgpack array
  kSet = 3,             ///< body: a msgpack array
  kFrozenSet = 4,       ///< body: a msgpack array
  kByteArray = 5,       ///< body: the raw bytes
  kDateTime = 6,        ///< date, time of day, then the time zone (see py_msgpack.cpp)
  kDate = 7,            ///< year u16, month u8, day u8
  kTime = 8,            ///< time of day, then the time zone
  kTimeDelta = 9,       ///< days, seconds, microseconds: i32 each, big-endian
  kDecimal = 10,        ///< str(value) in ASCII
  kUuid = 11,           ///< the 16 bytes
  kEncryptedField = 12  ///< a sealed field value (codec/field_cipher.hpp)
};
inline constexpr int kFirstUserExt = 32;
inline constexpr int kLastUserExt = 127;

/// A type registered with Codec.register_type: `encode(obj)` gives a serializable object stored
/// under `code`, and `decode(that object)` rebuilds the instance.
struct ExtType {
  std::int8_t code = 0;
  py::object cls;
  py::object encode;
  py::object decode;
};

/// What a registered type's decoder raised (the Python error is held as in any
/// error_already_set): the user's code failing, not the bytes, so Codec.try_open lets it through.
class DecoderRaised : public py::error_already_set {};

/// The registered types of one codec. Read and written with the GIL held only.
class ExtRegistry {
 public:
  /// Throws Error(kInvalidConfig) when the class or the code is taken.
  void add(ExtType type);
  [[nodiscard]] const ExtType* by_type(PyTypeObject* type) const noexcept;
  [[nodiscard]] const ExtType* by_code(std::int8_t code) const noexcept;

 private:
  std::vector<ExtType> types_;
};

/// Field-level encryption: dict values under these (str) keys are sealed on write; on read they
/// are opened with `keys`, or replaced by `placeholder(field, key_id)` when `keys` is empty.
struct FieldCrypt {
  codec::Keyring keys;
  std::vector<std::string> names;
  py::object placeholder;
  [[nodiscard]] bool seals(std::string_view name) const noexcept;
};

/// What one walk needs: bounds, registered types and the key the value is stored under (the
/// associated data of sealed fields).
struct WalkOptions {
  std::size_t max_depth = 64;
  /// What one value may hold (items, estimated bytes), checked on encode and decode alike.
  codec::DecodeLimits limits;
  const ExtRegistry* types = nullptr;
  const FieldCrypt* fields = nullptr;
  std::string_view cache_key;
};

/// The estimated bytes an extension object of `code` with a `body` of that many bytes charges
/// to the limits, on top of one item; pack and unpack use this one table so that they agree.
/// Tuples, sets, sealed fields and registered types also charge what they hold, as it is built.
[[nodiscard]] inline std::size_t ext_charge(std::int8_t code, std::size_t body) noexcept {
  switch (static_cast<ExtCode>(code)) {
    case ExtCode::kTuple:
    case ExtCode::kEncryptedField:
      return 0;
    case ExtCode::kSet:
    case ExtCode::kFrozenSet:
      return codec::kSetCost;
    case ExtCode::kBigInt:
    case ExtCode::kByteArray:
    case ExtCode::kDateTime:
    case ExtCode::kDate:
    case ExtCode::kTime:
    case ExtCode::kTimeDelta:
    case ExtCode::kDecimal:
    case ExtCode::kUuid:
      return codec::kExtCost + body;
  }
  return 0;
}

/// Appends the step to a dict value under `key` to a sealed field's path (the associated data
/// of codec::seal_field): a str key by its UTF-8, an int key within 64 bits by its value, any
/// other key by a marker only (the whole envelope is authenticated anyway).
void append_key_step(std::string& path, PyObject* key);
/// Appends the step to item `index` of a list or tuple.
void append_index_step(std::string& path, std::size_t index);

/// Imports the classes the walk recognises (datetime C API, Decimal, UUID, ZoneInfo); idempotent.
void init_msgpack_types();

/// Appends the msgpack form of `value` to `out`. Raises SerializationError (naming the type
/// and its path inside the value) for what it cannot represent and Error(kTooLarge) for a value
/// past `options.limits`; exceptions of registered encoders propagate unchanged.
void pack_value(PyObject* value, const WalkOptions& options, std::string& out);

/// Rebuilds the object from exactly `bytes`. Allocates only for what the bytes contain (never
/// for declared counts), recurses at most `max_depth` containers deep, and stops with
/// Error(kTooLarge) before building past `options.limits` (declared lengths are checked before
/// their elements are read); anything malformed, too deep, with many keys of one hash (hash
/// flooding) is Error(kCorrupt), a sealed field that does not open Error(kTampered); what a
/// registered decoder raises leaves as DecoderRaised.
[[nodiscard]] py::object unpack_value(std::string_view bytes, const WalkOptions& options);

/// Checks that `value` is in the JSON subset: dict with str keys, list, str, 64-bit int, finite
/// float, bool, None; raises SerializationError naming the first object that is not.
void check_json(PyObject* value, std::size_t max_depth);

}  // namespace stratacache::bindings
