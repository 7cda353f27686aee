#include "py_walk.hpp"

#include <utility>

namespace stratacache::bindings {
namespace {

constexpr std::size_t kMaxStepChars = 40;

/// A type's name without its module ("OrderedDict", not "collections.OrderedDict").
std::string short_name(PyTypeObject* type) {
  const std::string_view name = type->tp_name;
  const std::size_t dot = name.rfind('.');
  return std::string(dot == std::string_view::npos ? name : name.substr(dot + 1));
}

}  // namespace

SerializeFailure serialize_failure(PyObject* obj, std::string reason) {
  return SerializeFailure{.reason = std::move(reason),
                          .path = {},
                          .culprit = obj,
                          .cycle = false,
                          .type_name = short_name(Py_TYPE(obj))};
}

void add_step(SerializeFailure& failure, PyObject* container, const std::string& step) {
  failure.path.insert(0, step);
  if (container == failure.culprit && !failure.cycle) {
    failure.cycle = true;
    failure.loop_chars = failure.path.size();
  }
}

std::string key_step(PyObject* key) {
  PyObject* r = PyObject_Repr(key);
  if (r == nullptr) {
    PyErr_Clear();
    return "[<key>]";
  }
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(r, &n);
  std::string text = s != nullptr ? std::string(s, static_cast<std::size_t>(n)) : "<key>";
  if (s == nullptr) PyErr_Clear();
  Py_DECREF(r);
  if (text.size() > kMaxStepChars) text = text.substr(0, kMaxStepChars - 3) + "...";
  return "[" + text + "]";
}

void raise_serialization_error(const SerializeFailure& failure) {
  std::string message;
  if (failure.cycle) {
    // The walk went round the loop until max_depth: keep one turn of it.
    const std::string loop = failure.path.substr(failure.path.size() - failure.loop_chars);
    std::string prefix = failure.path.substr(0, failure.path.size() - failure.loop_chars);
    while (prefix.size() >= loop.size() && prefix.ends_with(loop)) {
      prefix.resize(prefix.size() - loop.size());
    }
    message = "cannot serialize a self-referencing structure: value" + prefix +
              " contains itself at value" + prefix + loop;
  } else {
    message = "cannot serialize " + failure.type_name + " at value" + failure.path + ": " +
              failure.reason;
  }
  // errors.py imports nothing from the package, so this import cannot cycle.
  const py::object cls = py::module_::import("stratacache.errors").attr("SerializationError");
  PyErr_SetString(cls.ptr(), message.c_str());
  throw py::error_already_set();
}

SerializeFailure too_deep(PyObject* obj, std::size_t max_depth) {
  return serialize_failure(obj, "nested deeper than max_depth=" + std::to_string(max_depth));
}

}  // namespace stratacache::bindings
