// Internals shared by the msgpack packer and unpacker: the Python classes they recognise,
// imported once, and the byte layout of the time extension types.
#pragma once

#include <Python.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace stratacache::bindings::detail {

/// Strong references taken by init_msgpack_types() and kept for the life of the process.
struct PyTypes {
  PyObject* decimal = nullptr;    ///< decimal.Decimal
  PyObject* uuid = nullptr;       ///< uuid.UUID
  PyObject* zoneinfo = nullptr;   ///< zoneinfo.ZoneInfo
  PyObject* timezone = nullptr;   ///< datetime.timezone
  PyObject* enum_base = nullptr;  ///< enum.Enum, for error hints only
};
const PyTypes& py_types();

/// Each translation unit that uses the datetime C API imports it for itself.
void import_datetime_pack();
void import_datetime_unpack();

/// Time zone tag after the time of day of kTime and kDateTime; naive values have none.
inline constexpr std::uint8_t kTzOffset = 1;  ///< offset in microseconds (i64), optional name
inline constexpr std::uint8_t kTzZone = 2;    ///< IANA key of a zoneinfo.ZoneInfo
inline constexpr std::size_t kDateBytes = 4;
inline constexpr std::size_t kTimeBytes = 7;  ///< hour, minute, second, microsecond u24, fold
inline constexpr std::size_t kDeltaBytes = 12;

inline void put_be(std::string& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
}

inline std::uint64_t get_be(const char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

}  // namespace stratacache::bindings::detail
