// One translator from stratacache::Error codes to the classes of python/stratacache/errors.py.
#include <pybind11/pybind11.h>

#include "bind_registry.hpp"
#include "common/error.hpp"
#include "py_store.hpp"

namespace py = pybind11;

namespace stratacache::bindings {
namespace {

const char* class_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidConfig:
      return "ConfigError";
    case ErrorCode::kInvalidTtl:
      return "InvalidTTLError";
    case ErrorCode::kValueTooLarge:
      return "ValueTooLargeError";
    case ErrorCode::kCorrupt:
      return "CorruptDataError";
    case ErrorCode::kUnknownVersion:
      return "UnknownVersionError";
    case ErrorCode::kTampered:
      return "TamperedDataError";
    case ErrorCode::kTooLarge:
      return "DataTooLargeError";
    case ErrorCode::kIo:
      return "TraceIOError";
    case ErrorCode::kDisk:
      return "DiskError";
  }
  return "StratacacheError";
}

}  // namespace

void set_python_error(const Error& e) {
  // errors.py imports nothing from the package, so this import cannot cycle.
  py::object cls = py::module_::import("stratacache.errors").attr(class_name(e.code()));
  PyErr_SetString(cls.ptr(), e.what());
}

void bind_errors(py::module_& /*m*/) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      set_python_error(e);
    }
  });
}

}  // namespace stratacache::bindings
