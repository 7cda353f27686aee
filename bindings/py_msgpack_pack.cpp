// Python object -> msgpack: a recursive walk over exact types with msgpack-c's packer. Only
// exact built-in types take the built-in path (bool before int); a subclass (OrderedDict, a
// str subclass, an unregistered IntEnum) is refused rather than silently decoded as its base.
#include <Python.h>
#include <datetime.h>

#include <bit>
#include <cstring>
#include <msgpack/pack.hpp>

#include "codec/field_cipher.hpp"
#include "py_msgpack.hpp"
#include "py_msgpack_detail.hpp"
#include "py_walk.hpp"

namespace stratacache::bindings {
namespace detail {
void import_datetime_pack() {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();
}
}  // namespace detail

namespace {

using detail::put_be;

/// The Stream msgpack::packer writes to.
struct StringStream {
  std::string& out;
  void write(const char* data, std::size_t n) { out.append(data, n); }
};

constexpr std::size_t kExt32Header = 6;

/// Borrowed references kept alive while a registered encoder may run arbitrary code.
class Ref {
 public:
  explicit Ref(PyObject* o) noexcept : o_(Py_NewRef(o)) {}
  ~Ref() { Py_DECREF(o_); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  [[nodiscard]] PyObject* get() const noexcept { return o_; }

 private:
  PyObject* o_;
};

class Packer {
 public:
  Packer(const WalkOptions& options, std::string& out)
      : options_(options), out_(out), stream_{out}, pk_(stream_) {}

  void pack(PyObject* obj, std::size_t depth) {
    PyTypeObject* t = Py_TYPE(obj);
    if (t == &PyUnicode_Type) return pack_str(obj);
    if (t == &PyLong_Type) return pack_int(obj);
    if (t == &PyFloat_Type) return pack_float(PyFloat_AS_DOUBLE(obj));
    if (obj == Py_None) {
      pk_.pack_nil();
      return;
    }
    if (t == &PyBool_Type) {
      obj == Py_True ? pk_.pack_true() : pk_.pack_false();
      return;
    }
    if (t == &PyDict_Type) return pack_dict(obj, depth + 1);
    if (t == &PyList_Type) return pack_list(obj, depth + 1);
    if (t == &PyBytes_Type) {
      const auto n = static_cast<std::uint32_t>(PyBytes_GET_SIZE(obj));
      charge(0, n);
      pk_.pack_bin(n);
      pk_.pack_bin_body(PyBytes_AS_STRING(obj), n);
      return;
    }
    if (t == &PyTuple_Type) return pack_tuple(obj, depth + 1);
    pack_other(obj, depth);
  }

  /// Counts the value itself; what it holds counts as containers declare it.
  void charge_root() noexcept { charge(1, 0); }

  /// Refuses a value past the limits: it would be written and never read back.
  void check_limits() const {
    codec::DecodeBudget budget(options_.limits);
    if (!budget.charge(items_, bytes_)) budget.exceeded_error();
  }

 private:
  void pack_other(PyObject* obj, std::size_t depth) {
    PyTypeObject* t = Py_TYPE(obj);
    const detail::PyTypes& types = detail::py_types();
    if (t == &PySet_Type) return pack_set(ExtCode::kSet, obj, depth + 1);
    if (t == &PyFrozenSet_Type) return pack_set(ExtCode::kFrozenSet, obj, depth + 1);
    if (t == &PyByteArray_Type) {
      return pack_ext(ExtCode::kByteArray, PyByteArray_AS_STRING(obj),
                      static_cast<std::size_t>(PyByteArray_GET_SIZE(obj)));
    }
    if (PyDateTime_CheckExact(obj)) return pack_datetime(obj);
    if (PyDate_CheckExact(obj)) return pack_date(obj);
    if (PyTime_CheckExact(obj)) return pack_time(obj);
    if (PyDelta_CheckExact(obj)) return pack_delta(obj);
    if (reinterpret_cast<PyObject*>(t) == types.decimal) return pack_decimal(obj);
    if (reinterpret_cast<PyObject*>(t) == types.uuid) return pack_uuid(obj);
    if (const ExtType* ext = options_.types->by_type(t)) return pack_registered(*ext, obj, depth);
    throw serialize_failure(obj, unsupported_reason(obj));
  }

  static std::string unsupported_reason(PyObject* obj) {
    const detail::PyTypes& types = detail::py_types();
    if (PyObject_IsInstance(obj, types.enum_base) == 1) {
      return "enum members need Codec.register_enum";
    }
    PyErr_Clear();
    if (PyLong_Check(obj) || PyFloat_Check(obj) || PyUnicode_Check(obj) || PyBytes_Check(obj) ||
        PyDict_Check(obj) || PyList_Check(obj) || PyTuple_Check(obj) || PyAnySet_Check(obj) ||
        PyDate_Check(obj) || PyTime_Check(obj) || PyDelta_Check(obj)) {
      return "subclasses of built-in types are refused so that decoding gives back the same "
             "type; register it with Codec.register_type";
    }
    return "unsupported type; register it with Codec.register_type or use "
           "serializer=\"pickle\"";
  }

  /// Counts what the decoder will charge for the same bytes (py_msgpack_unpack.cpp); checked
  /// once at the end, since the value is trusted and a running check costs every value.
  void charge(std::size_t items, std::size_t bytes) noexcept {
    items_ += items;
    bytes_ += bytes;
  }

  void check_depth(PyObject* obj, std::size_t depth) const {
    if (depth > options_.max_depth) throw too_deep(obj, options_.max_depth);
  }

  /// Always float 64: msgpack-c's pack_double writes integral doubles as integers, which
  /// would decode 1.0 as 1 and lose the sign of -0.0.
  void pack_float(double d) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, sizeof bits);
    if constexpr (std::endian::native == std::endian::little) bits = __builtin_bswap64(bits);
    char buf[9] = {static_cast<char>(0xcb)};
    std::memcpy(buf + 1, &bits, sizeof bits);
    out_.append(buf, sizeof buf);
  }

  void pack_str(PyObject* obj) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(obj, &n);
    if (s == nullptr) {
      PyErr_Clear();
      throw serialize_failure(obj, "str with a lone surrogate (U+D800..U+DFFF) has no UTF-8 form");
    }
    charge(0, static_cast<std::size_t>(n));
    pk_.pack_str(static_cast<std::uint32_t>(n));
    pk_.pack_str_body(s, static_cast<std::uint32_t>(n));
  }

  void pack_int(PyObject* obj) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow == 0) {
      if (v < 0) {
        pk_.pack_int64(v);
      } else {
        pk_.pack_uint64(static_cast<std::uint64_t>(v));
      }
      return;
    }
    if (overflow > 0) {
      const unsigned long long u = PyLong_AsUnsignedLongLong(obj);
      if (!PyErr_Occurred()) {
        pk_.pack_uint64(u);
        return;
      }
      PyErr_Clear();
    }
    // Rare: beyond 64 bits, through int.to_bytes.
    const py::int_ value = py::reinterpret_borrow<py::int_>(obj);
    const std::size_t bits = value.attr("bit_length")().cast<std::size_t>();
    const py::bytes raw = value.attr("to_bytes")(bits / 8 + 1, "big", py::arg("signed") = true);
    const std::string_view body = raw;
    pack_ext(ExtCode::kBigInt, body.data(), body.size());
  }

  void pack_dict(PyObject* dict, std::size_t depth) {
    check_depth(dict, depth);
    const Py_ssize_t n = PyDict_GET_SIZE(dict);
    charge(2 * static_cast<std::size_t>(n), codec::kContainerCost);
    pk_.pack_map(static_cast<std::uint32_t>(n));
    Py_ssize_t pos = 0;
    Py_ssize_t count = 0;
    PyObject* k = nullptr;
    PyObject* v = nullptr;
    while (PyDict_Next(dict, &pos, &k, &v)) {
      const Ref key(k);
      const Ref value(v);
      try {
        pack(k, depth);
      } catch (SerializeFailure& f) {
        add_step(f, dict, "<key " + key_step(k) + ">");
        throw;
      }
      const std::size_t mark = path_.size();
      try {
        if (options_.fields != nullptr) append_key_step(path_, k);
        if (options_.fields != nullptr && PyUnicode_CheckExact(k)) {
          pack_field(k, v, depth);
        } else {
          pack(v, depth);
        }
      } catch (SerializeFailure& f) {
        add_step(f, dict, key_step(k));
        throw;
      }
      if (options_.fields != nullptr) path_.resize(mark);
      ++count;
    }
    if (count != n) changed_size("dict");
  }

  void pack_list(PyObject* list, std::size_t depth) {
    check_depth(list, depth);
    const Py_ssize_t n = PyList_GET_SIZE(list);
    charge(static_cast<std::size_t>(n), codec::kContainerCost);
    pk_.pack_array(static_cast<std::uint32_t>(n));
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (i >= PyList_GET_SIZE(list)) changed_size("list");
      const Ref item(PyList_GET_ITEM(list, i));
      pack_item(list, item.get(), i, depth);
    }
    if (PyList_GET_SIZE(list) != n) changed_size("list");
  }

  void pack_item(PyObject* container, PyObject* item, Py_ssize_t i, std::size_t depth) {
    const std::size_t mark = path_.size();
    if (options_.fields != nullptr) append_index_step(path_, static_cast<std::size_t>(i));
    try {
      pack(item, depth);
    } catch (SerializeFailure& f) {
      add_step(f, container, "[" + std::to_string(i) + "]");
      throw;
    }
    if (options_.fields != nullptr) path_.resize(mark);
  }

  [[noreturn]] static void changed_size(const char* what) {
    PyErr_Format(PyExc_RuntimeError, "%s changed size during encoding", what);
    throw py::error_already_set();
  }

  /// Writes the body `fill` appends behind room for an ext32 header, then the smallest header
  /// for the body's length, moving bodies of up to 64 KiB back over the unused room.
  template <class Fill>
  void pack_nested(ExtCode code, Fill&& fill) {
    const std::size_t start = out_.size();
    out_.append(kExt32Header, '\0');
    fill();
    const std::size_t len = out_.size() - start - kExt32Header;
    charge(0, ext_charge(static_cast<std::int8_t>(code), len));
    char header[kExt32Header] = {};
    std::size_t n = 0;
    if (len > 0xFFFF) {
      header[n++] = static_cast<char>(0xc9);
      for (int shift = 24; shift >= 0; shift -= 8) {
        header[n++] = static_cast<char>((len >> shift) & 0xFFU);
      }
    } else if (const int fixed = fixext_byte(len); fixed != 0) {
      header[n++] = static_cast<char>(fixed);
    } else if (len <= 0xFF) {
      header[n++] = static_cast<char>(0xc7);
      header[n++] = static_cast<char>(len);
    } else {
      header[n++] = static_cast<char>(0xc8);
      header[n++] = static_cast<char>(len >> 8);
      header[n++] = static_cast<char>(len & 0xFFU);
    }
    header[n++] = static_cast<char>(code);
    if (n < kExt32Header) {
      std::memmove(&out_[start + n], &out_[start + kExt32Header], len);
      out_.resize(start + n + len);
    }
    std::memcpy(&out_[start], header, n);
  }

  static int fixext_byte(std::size_t len) noexcept {
    switch (len) {
      case 1:
        return 0xd4;
      case 2:
        return 0xd5;
      case 4:
        return 0xd6;
      case 8:
        return 0xd7;
      case 16:
        return 0xd8;
      default:
        return 0;
    }
  }

  void pack_tuple(PyObject* tuple, std::size_t depth) {
    check_depth(tuple, depth);
    pack_nested(ExtCode::kTuple, [&] {
      const Py_ssize_t n = PyTuple_GET_SIZE(tuple);
      charge(1 + static_cast<std::size_t>(n), codec::kContainerCost);  // the body, its items
      pk_.pack_array(static_cast<std::uint32_t>(n));
      for (Py_ssize_t i = 0; i < n; ++i) pack_item(tuple, PyTuple_GET_ITEM(tuple, i), i, depth);
    });
  }

  void pack_set(ExtCode code, PyObject* set, std::size_t depth) {
    check_depth(set, depth);
    pack_nested(code, [&] {
      const Py_ssize_t n = PySet_GET_SIZE(set);
      charge(1 + static_cast<std::size_t>(n), codec::kContainerCost);
      pk_.pack_array(static_cast<std::uint32_t>(n));
      const py::iterator it = py::reinterpret_borrow<py::object>(set).begin();
      Py_ssize_t count = 0;
      for (auto item = it; item != py::iterator::sentinel(); ++item, ++count) {
        const std::size_t mark = path_.size();
        // A registered type in a set may hold sealed fields; the reader sees a list body.
        if (options_.fields != nullptr) append_index_step(path_, static_cast<std::size_t>(count));
        try {
          pack(item->ptr(), depth);
        } catch (SerializeFailure& f) {
          add_step(f, set, "<set item>");
          throw;
        }
        if (options_.fields != nullptr) path_.resize(mark);
      }
      if (count != n) changed_size("set");
    });
  }

  void pack_ext(ExtCode code, const char* data, std::size_t n) {
    charge(0, ext_charge(static_cast<std::int8_t>(code), n));
    pk_.pack_ext(n, static_cast<std::int8_t>(code));
    pk_.pack_ext_body(data, static_cast<std::uint32_t>(n));
  }

  void pack_registered(const ExtType& ext, PyObject* obj, std::size_t depth) {
    check_depth(obj, depth + 1);
    const py::object encoded = ext.encode(py::handle(obj));
    charge(1, 0);  // the body, read as a value of its own
    const auto code = static_cast<ExtCode>(ext.code);
    pack_nested(code, [&] {
      try {
        pack(encoded.ptr(), depth + 1);
      } catch (SerializeFailure& f) {
        add_step(f, obj, "<encoded " + std::string(Py_TYPE(obj)->tp_name) + ">");
        throw;
      }
    });
  }

  void pack_field(PyObject* name, PyObject* value, std::size_t depth) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(name, &n);
    if (s == nullptr) PyErr_Clear();  // the key itself already failed to pack in that case
    const std::string_view field(s == nullptr ? "" : s, static_cast<std::size_t>(n));
    if (s == nullptr || !options_.fields->seals(field)) return pack(value, depth);
    std::string plain;
    Packer inner(options_, plain);
    inner.path_ = path_;  // fields sealed inside this one continue its path
    inner.pack(value, depth);
    charge(1 + inner.items_, inner.bytes_);  // the plaintext, read as a value of its own
    std::string sealed;
    codec::seal_field(options_.fields->keys, {}, options_.cache_key, path_, plain, sealed);
    pack_ext(ExtCode::kEncryptedField, sealed.data(), sealed.size());
  }

  void pack_tz(PyObject* obj, PyObject* tz) {
    if (tz == Py_None) return;
    const detail::PyTypes& types = detail::py_types();
    if (reinterpret_cast<PyObject*>(Py_TYPE(tz)) == types.timezone) {
      const py::object offset =
          py::reinterpret_borrow<py::object>(tz).attr("utcoffset")(py::none());
      const long long us =
          (static_cast<long long>(PyDateTime_DELTA_GET_DAYS(offset.ptr())) * 86400 +
           PyDateTime_DELTA_GET_SECONDS(offset.ptr())) *
              1'000'000 +
          PyDateTime_DELTA_GET_MICROSECONDS(offset.ptr());
      out_.push_back(static_cast<char>(detail::kTzOffset));
      put_be(out_, static_cast<std::uint64_t>(us), 8);
      const py::tuple args = py::reinterpret_borrow<py::object>(tz).attr("__getinitargs__")();
      if (args.size() == 2) out_.append(args[1].cast<std::string>());
      return;
    }
    if (reinterpret_cast<PyObject*>(Py_TYPE(tz)) == types.zoneinfo) {
      const py::object key = py::reinterpret_borrow<py::object>(tz).attr("key");
      if (!key.is_none()) {
        out_.push_back(static_cast<char>(detail::kTzZone));
        out_.append(key.cast<std::string>());
        return;
      }
    }
    throw serialize_failure(obj, std::string("tzinfo ") + Py_TYPE(tz)->tp_name +
                                     " is not supported; use datetime.timezone or a "
                                     "zoneinfo.ZoneInfo built from a key");
  }

  void put_date(PyObject* d) {
    put_be(out_, static_cast<std::uint64_t>(PyDateTime_GET_YEAR(d)), 2);
    out_.push_back(static_cast<char>(PyDateTime_GET_MONTH(d)));
    out_.push_back(static_cast<char>(PyDateTime_GET_DAY(d)));
  }

  void pack_date(PyObject* d) {
    pack_nested(ExtCode::kDate, [&] { put_date(d); });
  }

  /// Hour, minute, second, microsecond (u24), fold, then the time zone.
  void put_time(PyObject* obj, int hour, int minute, int second, int us, int fold, PyObject* tz) {
    for (const int v : {hour, minute, second}) out_.push_back(static_cast<char>(v));
    put_be(out_, static_cast<std::uint64_t>(us), 3);
    out_.push_back(static_cast<char>(fold));
    pack_tz(obj, tz);
  }

  void pack_datetime(PyObject* dt) {
    pack_nested(ExtCode::kDateTime, [&] {
      put_date(dt);
      put_time(dt, PyDateTime_DATE_GET_HOUR(dt), PyDateTime_DATE_GET_MINUTE(dt),
               PyDateTime_DATE_GET_SECOND(dt), PyDateTime_DATE_GET_MICROSECOND(dt),
               PyDateTime_DATE_GET_FOLD(dt), PyDateTime_DATE_GET_TZINFO(dt));
    });
  }

  void pack_time(PyObject* t) {
    pack_nested(ExtCode::kTime, [&] {
      put_time(t, PyDateTime_TIME_GET_HOUR(t), PyDateTime_TIME_GET_MINUTE(t),
               PyDateTime_TIME_GET_SECOND(t), PyDateTime_TIME_GET_MICROSECOND(t),
               PyDateTime_TIME_GET_FOLD(t), PyDateTime_TIME_GET_TZINFO(t));
    });
  }

  void pack_delta(PyObject* d) {
    pack_nested(ExtCode::kTimeDelta, [&] {
      put_be(out_, static_cast<std::uint32_t>(PyDateTime_DELTA_GET_DAYS(d)), 4);
      put_be(out_, static_cast<std::uint32_t>(PyDateTime_DELTA_GET_SECONDS(d)), 4);
      put_be(out_, static_cast<std::uint32_t>(PyDateTime_DELTA_GET_MICROSECONDS(d)), 4);
    });
  }

  void pack_decimal(PyObject* d) {
    const std::string text = py::str(d).cast<std::string>();
    pack_ext(ExtCode::kDecimal, text.data(), text.size());
  }

  void pack_uuid(PyObject* u) {
    const py::bytes raw = py::reinterpret_borrow<py::object>(u).attr("bytes");
    const std::string_view body = raw;
    pack_ext(ExtCode::kUuid, body.data(), body.size());
  }

  const WalkOptions& options_;
  std::string& out_;
  StringStream stream_;
  msgpack::packer<StringStream> pk_;
  std::size_t items_ = 0;
  std::size_t bytes_ = 0;
  /// In fields mode, the path from the top to the value being packed (append_key_step...).
  std::string path_;
};

}  // namespace

void pack_value(PyObject* value, const WalkOptions& options, std::string& out) {
  try {
    Packer packer(options, out);
    packer.charge_root();
    packer.pack(value, 0);
    packer.check_limits();
  } catch (const SerializeFailure& f) {
    raise_serialization_error(f);
  }
}

}  // namespace stratacache::bindings
