// The JSON subset check behind Codec(serializer="json"): values a non-Python reader gets back
// unchanged. Python's json module would turn tuples into lists and int keys into strings, and
// write NaN, which is not JSON; this walk refuses them first, naming the path.
#include <cmath>

#include "py_msgpack.hpp"
#include "py_walk.hpp"

namespace stratacache::bindings {
namespace {

class JsonCheck {
 public:
  explicit JsonCheck(std::size_t max_depth) : max_depth_(max_depth) {}

  void check(PyObject* obj, std::size_t depth) {
    PyTypeObject* t = Py_TYPE(obj);
    if (t == &PyUnicode_Type) return check_str(obj);
    if (obj == Py_None || t == &PyBool_Type) return;
    if (t == &PyLong_Type) return check_int(obj);
    if (t == &PyFloat_Type) {
      if (!std::isfinite(PyFloat_AS_DOUBLE(obj))) {
        throw serialize_failure(obj, "NaN and infinities are not JSON");
      }
      return;
    }
    if (t == &PyDict_Type) return check_dict(obj, depth + 1);
    if (t == &PyList_Type) return check_list(obj, depth + 1);
    throw serialize_failure(obj,
                            "serializer=\"json\" takes dict (str keys), list, str, int, float, "
                            "bool and None only; use serializer=\"msgpack\" for other types");
  }

 private:
  void check_depth(PyObject* obj, std::size_t depth) const {
    if (depth > max_depth_) throw too_deep(obj, max_depth_);
  }

  static void check_str(PyObject* obj) {
    if (PyUnicode_AsUTF8AndSize(obj, nullptr) == nullptr) {
      PyErr_Clear();
      throw serialize_failure(obj, "str with a lone surrogate (U+D800..U+DFFF) has no UTF-8 form");
    }
  }

  static void check_int(PyObject* obj) {
    int overflow = 0;
    (void)PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow < 0) throw serialize_failure(obj, "int below -2**63 is not portable JSON");
    if (overflow > 0) {
      (void)PyLong_AsUnsignedLongLong(obj);
      if (PyErr_Occurred() != nullptr) {
        PyErr_Clear();
        throw serialize_failure(obj, "int of 2**64 or more is not portable JSON");
      }
    }
  }

  void check_dict(PyObject* dict, std::size_t depth) {
    check_depth(dict, depth);
    Py_ssize_t pos = 0;
    PyObject* k = nullptr;
    PyObject* v = nullptr;
    while (PyDict_Next(dict, &pos, &k, &v)) {
      if (!PyUnicode_CheckExact(k)) {
        SerializeFailure f = serialize_failure(k, "JSON object keys must be str");
        add_step(f, dict, "<key " + key_step(k) + ">");
        throw f;
      }
      try {
        check_str(k);
        check(v, depth);
      } catch (SerializeFailure& f) {
        add_step(f, dict, key_step(k));
        throw;
      }
    }
  }

  void check_list(PyObject* list, std::size_t depth) {
    check_depth(list, depth);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); ++i) {
      try {
        check(PyList_GET_ITEM(list, i), depth);
      } catch (SerializeFailure& f) {
        add_step(f, list, "[" + std::to_string(i) + "]");
        throw;
      }
    }
  }

  std::size_t max_depth_;
};

}  // namespace

void check_json(PyObject* value, std::size_t max_depth) {
  try {
    JsonCheck(max_depth).check(value, 0);
  } catch (const SerializeFailure& f) {
    raise_serialization_error(f);
  }
}

}  // namespace stratacache::bindings
