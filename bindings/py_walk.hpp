// What the value walkers (py_msgpack.cpp, py_json.cpp) share: the error that names the path of
// an unsupported object inside a value, built while the recursion unwinds so that the success
// path pays nothing for it.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>

namespace stratacache::bindings {

namespace py = pybind11;

/// Thrown by a walker at the object it cannot serialize; each container on the way up prepends
/// its step to `path`, then `raise_serialization_error` turns it into a Python exception.
struct SerializeFailure {
  std::string reason;
  std::string path;            ///< e.g. "['users'][3]", filled in while unwinding
  PyObject* culprit;           ///< borrowed: alive as long as the value being walked
  bool cycle = false;          ///< set when an ancestor container is the culprit itself
  std::size_t loop_chars = 0;  ///< length of the path's tail from that ancestor to the culprit
  std::string type_name;       ///< the culprit's type, read at the throw site
};

/// Builds the failure for `obj` with `reason`.
[[nodiscard]] SerializeFailure serialize_failure(PyObject* obj, std::string reason);

/// A container on the way up: records its step and whether it is the culprit (a cycle).
void add_step(SerializeFailure& failure, PyObject* container, const std::string& step);

/// The path step of a dict key: `[repr(key)]`, shortened.
[[nodiscard]] std::string key_step(PyObject* key);

/// Sets stratacache.errors.SerializationError from `failure` and throws error_already_set.
[[noreturn]] void raise_serialization_error(const SerializeFailure& failure);

/// The failure for a container nested deeper than `max_depth`.
[[nodiscard]] SerializeFailure too_deep(PyObject* obj, std::size_t max_depth);

}  // namespace stratacache::bindings
