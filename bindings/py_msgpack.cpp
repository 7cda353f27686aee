// The registry of user extension types and the classes the walk recognises.
#include "py_msgpack.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "py_msgpack_detail.hpp"

namespace stratacache::bindings {
namespace detail {
namespace {

PyTypes g_types;

PyObject* import_attr(const char* module, const char* name) {
  return py::object(py::module_::import(module).attr(name)).release().ptr();
}

}  // namespace

const PyTypes& py_types() { return g_types; }

}  // namespace detail

void init_msgpack_types() {
  detail::PyTypes& t = detail::g_types;
  if (t.decimal != nullptr) return;
  detail::import_datetime_pack();
  detail::import_datetime_unpack();
  // Leaked on purpose: the classes live as long as the interpreter, and a static destructor
  // running after finalisation would decref into a dead heap.
  t.uuid = detail::import_attr("uuid", "UUID");
  t.zoneinfo = detail::import_attr("zoneinfo", "ZoneInfo");
  t.timezone = detail::import_attr("datetime", "timezone");
  t.enum_base = detail::import_attr("enum", "Enum");
  t.decimal = detail::import_attr("decimal", "Decimal");
}

void ExtRegistry::add(ExtType type) {
  for (const ExtType& t : types_) {
    if (t.cls.is(type.cls)) {
      throw Error(ErrorCode::kInvalidConfig, "register_type: the class is already registered");
    }
    if (t.code == type.code) {
      throw Error(ErrorCode::kInvalidConfig,
                  "register_type: code " + std::to_string(type.code) + " is already taken by " +
                      py::str(t.cls.attr("__qualname__")).cast<std::string>());
    }
  }
  types_.push_back(std::move(type));
}

const ExtType* ExtRegistry::by_type(PyTypeObject* type) const noexcept {
  const auto it = std::find_if(types_.begin(), types_.end(), [type](const ExtType& t) {
    return t.cls.ptr() == reinterpret_cast<PyObject*>(type);
  });
  return it == types_.end() ? nullptr : &*it;
}

const ExtType* ExtRegistry::by_code(std::int8_t code) const noexcept {
  const auto it = std::find_if(types_.begin(), types_.end(),
                               [code](const ExtType& t) { return t.code == code; });
  return it == types_.end() ? nullptr : &*it;
}

namespace {

void put_le64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
}

}  // namespace

void append_key_step(std::string& path, PyObject* key) {
  if (PyUnicode_CheckExact(key)) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(key, &n);
    if (s == nullptr) throw py::error_already_set();
    path.push_back('s');
    put_le64(path, static_cast<std::uint64_t>(n));
    path.append(s, static_cast<std::size_t>(n));
    return;
  }
  if (PyLong_CheckExact(key)) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(key, &overflow);
    if (overflow == 0 && !(v == -1 && PyErr_Occurred() != nullptr)) {
      path.push_back('i');
      put_le64(path, static_cast<std::uint64_t>(v));
      return;
    }
    PyErr_Clear();
  }
  path.push_back('x');
}

void append_index_step(std::string& path, std::size_t index) {
  path.push_back('n');
  put_le64(path, index);
}

bool FieldCrypt::seals(std::string_view name) const noexcept {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace stratacache::bindings
