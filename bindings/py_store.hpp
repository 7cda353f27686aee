// The store as the bindings see it: engine values are Python objects (py::object: copy is an
// incref, destruction a decref, so both need the GIL, which every binding call holds).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/hash.hpp"
#include "stats/latencies.hpp"
#include "store/access_recorder.hpp"
#include "store/store.hpp"

namespace stratacache::bindings {

namespace py = pybind11;
using PyStore = store::Store<py::object>;

/// The Python `Store` object: owns the engine store and the recorder it borrows.
struct StoreHandle {
  std::unique_ptr<store::AccessRecorder> recorder;  // declared first: outlives `store`
  std::unique_ptr<stats::Latencies> latencies;      // likewise; nullptr: timing is off
  std::unique_ptr<PyStore> store;
};

/// Seed mixed into key hashes so equal bodies under different prefixes spread apart.
[[nodiscard]] inline std::uint64_t prefix_seed(std::string_view prefix) noexcept {
  return hash_bytes(prefix);
}

/// `key_bytes` for keys that are not exact ASCII str objects (bind_store.cpp).
bool key_bytes_slow(PyObject* key, std::string_view& out) noexcept;

/// The key's UTF-8 bytes without copying (CPython caches them in the str object).
/// Returns false with a Python error set when `key` is not a str or not encodable.
[[gnu::always_inline]] inline bool key_bytes(PyObject* key, std::string_view& out) noexcept {
  // An ASCII str's bytes are its UTF-8 form, in place after the header: read inline, where
  // PyUnicode_AsUTF8AndSize was a call of ~25 instructions on every get and set.
  if (PyUnicode_CheckExact(key) && PyUnicode_IS_COMPACT_ASCII(key)) [[likely]] {
    out = std::string_view(static_cast<const char*>(PyUnicode_DATA(key)),
                           static_cast<std::size_t>(PyUnicode_GET_LENGTH(key)));
    return true;
  }
  return key_bytes_slow(key, out);
}

/// Hash of (prefix, key): str's own cached hash, mixed with the prefix seed.
[[nodiscard, gnu::always_inline]] inline std::uint64_t key_hash(std::uint64_t seed,
                                                                PyObject* key) noexcept {
  // PyUnicode_Type's hash, not the object's: a str subclass may override __hash__. str keeps
  // it in the object once computed (-1 until then); reading that field is what unicode_hash
  // does first, without the indirect call.
#if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX < 0x030F0000
  Py_hash_t cached = reinterpret_cast<PyASCIIObject*>(key)->hash;
  if (cached == -1) [[unlikely]]
    cached = PyUnicode_Type.tp_hash(key);
  const auto h = static_cast<std::uint64_t>(cached);
#else
  const auto h = static_cast<std::uint64_t>(PyUnicode_Type.tp_hash(key));
#endif
  return mix64(h ^ seed);
}

/// Python number of seconds or None -> engine TTL. Throws Error{kInvalidTtl}.
[[nodiscard]] std::optional<Nanos> ttl_shim(const py::handle& ttl);

/// Drops values handed back by the engine: called with the GIL held and no lock taken.
inline void drop_values(std::vector<py::object>& dropped) { dropped.clear(); }

/// Raises the errors.py class mapped to `e.code()` as the current Python error.
void set_python_error(const Error& e);

/// Registers the vectorcall `get`/`set` entry points (fast_store.cpp).
void bind_fast_store(py::module_& m, py::class_<StoreHandle>& cls);

/// Registers the access-recording methods of `Store` (bind_recorder.cpp).
void bind_recorder(py::class_<StoreHandle>& cls);

/// Registers the per-namespace counters and latency histograms of `Store` (bind_stats.cpp).
void bind_stats(py::class_<StoreHandle>& cls);

}  // namespace stratacache::bindings
