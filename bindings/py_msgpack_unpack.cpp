// msgpack -> Python objects: msgpack-c's SAX parser (msgpack::parse) drives a visitor that
// builds the objects on a value stack. msgpack::unpack would first allocate a msgpack::object
// per *declared* element (a 5-byte array header can declare 4 billion), so the visitor
// allocates only for values actually present, bounds nesting by max_depth, and charges each
// container's declared length and each body's bytes to a DecodeBudget before building them,
// so that a small compressed payload cannot inflate into millions of objects.
#include <Python.h>
#include <datetime.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <msgpack/parse.hpp>
#include <msgpack/unpack.hpp>  // completes the types parse.hpp declares
#include <random>

#include "codec/field_cipher.hpp"
#include "common/error.hpp"
#include "py_msgpack.hpp"
#include "py_msgpack_detail.hpp"

namespace stratacache::bindings {
namespace detail {
void import_datetime_unpack() {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();
}
}  // namespace detail

namespace {

using detail::get_be;

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(ErrorCode::kCorrupt, "codec: " + what);
}

/// str and bytes hash with the interpreter's random SipHash key; other keys (ints, floats,
/// tuples) hash predictably, so crafted keys of one hash make each dict insert scan all of them.
bool hash_is_keyed(PyObject* o) noexcept {
  return PyUnicode_CheckExact(o) || PyBytes_CheckExact(o);
}

/// Refuses `count` keys (every `stride`-th entry of `items`) when more than kMaxSharedHashes of
/// them share a hash with an earlier one: honest values have next to none, and refusing bounds
/// the quadratic work of inserting colliding keys. The table mixes hashes with a per-process
/// random multiplier, so its own probing cannot be steered.
void check_hash_spread(PyObject* const* items, std::size_t count, std::size_t stride) {
  constexpr std::size_t kMaxSharedHashes = 64;
  if (count <= kMaxSharedHashes) return;
  bool keyed = true;
  for (std::size_t i = 0; i < count && keyed; ++i) keyed = hash_is_keyed(items[i * stride]);
  if (keyed) return;
  static const std::uint64_t kMix = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32 | rd()) | 1U;
  }();
  int bits = 4;
  while ((std::size_t{1} << bits) < 2 * count) ++bits;
  const std::size_t size = std::size_t{1} << bits;
  std::vector<std::uint64_t> table(size, 0);  // 0 marks an empty slot; hashes are stored + 1
  std::size_t shared = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const Py_hash_t h = PyObject_Hash(items[i * stride]);
    if (h == -1) {
      PyErr_Clear();
      corrupt("unhashable map key or set item");
    }
    const std::uint64_t stored = static_cast<std::uint64_t>(h) + 1;
    std::size_t slot = static_cast<std::size_t>((stored * kMix) >> (64 - bits));
    while (table[slot] != 0 && table[slot] != stored) slot = (slot + 1) & (size - 1);
    if (table[slot] == stored) {
      if (++shared > kMaxSharedHashes) corrupt("too many map keys or set items share a hash");
    } else {
      table[slot] = stored;
    }
  }
}

/// A str from UTF-8 bytes; a Python error (bad UTF-8) becomes CorruptDataError upstream.
py::object text(const char* p, std::size_t n) {
  PyObject* s = PyUnicode_DecodeUTF8(p, static_cast<Py_ssize_t>(n), nullptr);
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(s);
}

/// Map keys repeat, within a value (a list of records) and across the values a cache reads (the
/// same record shape every time): short ASCII keys are decoded once per process and shared,
/// which also reuses their cached hash in the dicts (decoding and hashing them again was a
/// fifth of a 200-byte dict's decode). One table per process, read and written with the GIL
/// held; a slot holds one str of at most kMaxKeyBytes, so it stays under 40 KiB, and a
/// colliding key just takes the slot over (the bytes are compared, never only the hash).
class KeyCache {
 public:
  /// The process's table; leaked on purpose, like the classes of py_types(): a static
  /// destructor running after finalisation would decref into a dead heap.
  static KeyCache& shared() {
    static KeyCache* const cache = new KeyCache();
    return *cache;
  }
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  /// A new reference to the str of `p[0, n)`, or nullptr with a Python error set.
  PyObject* get(const char* p, std::size_t n) {
    if (n > kMaxKeyBytes) return PyUnicode_DecodeUTF8(p, static_cast<Py_ssize_t>(n), nullptr);
    std::uint32_t h = static_cast<std::uint32_t>(n) * 0x9E3779B1U;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<std::uint8_t>(p[i])) * 0x01000193U;
    PyObject*& slot = slots_[(h >> 7) % kSlots];
    if (slot != nullptr && static_cast<std::size_t>(PyUnicode_GET_LENGTH(slot)) == n &&
        std::memcmp(PyUnicode_DATA(slot), p, n) == 0) {
      return Py_NewRef(slot);
    }
    PyObject* s = PyUnicode_DecodeUTF8(p, static_cast<Py_ssize_t>(n), nullptr);
    if (s != nullptr && PyUnicode_IS_COMPACT_ASCII(s)) Py_XSETREF(slot, Py_NewRef(s));
    return s;
  }

 private:
  static constexpr std::size_t kMaxKeyBytes = 32;
  static constexpr std::size_t kSlots = 512;
  KeyCache() = default;
  std::array<PyObject*, kSlots> slots_{};
};

/// A msgpack-c visitor; see msgpack/v2/null_visitor.hpp for the interface.
class Builder {
 public:
  Builder(const WalkOptions& options, std::size_t depth, KeyCache& keys,
          codec::DecodeBudget& budget, const Builder* parent = nullptr)
      : options_(options), depth_(depth), keys_(keys), budget_(budget), parent_(parent) {
    stack_.reserve(32);
  }
  ~Builder() {
    for (PyObject* o : stack_) Py_DECREF(o);
  }
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  /// Parses all of `bytes` as one value.
  py::object build(std::string_view bytes) {
    charge(1, 0);  // the value itself; what it holds is charged from the declared lengths
    std::size_t off = 0;
    if (!msgpack::parse(bytes.data(), bytes.size(), off, *this) || off != bytes.size() ||
        stack_.size() != 1) {
      corrupt("malformed msgpack payload");
    }
    PyObject* o = stack_.back();
    stack_.clear();
    return py::reinterpret_steal<py::object>(o);
  }

  // Scalars charge nothing themselves: their container's declared length counted them.
  bool visit_nil() { return push(Py_NewRef(Py_None)); }
  bool visit_boolean(bool v) { return push(Py_NewRef(v ? Py_True : Py_False)); }
  bool visit_positive_integer(std::uint64_t v) { return push(PyLong_FromUnsignedLongLong(v)); }
  bool visit_negative_integer(std::int64_t v) { return push(PyLong_FromLongLong(v)); }
  bool visit_float32(float v) { return push(PyFloat_FromDouble(v)); }
  bool visit_float64(double v) { return push(PyFloat_FromDouble(v)); }
  bool visit_str(const char* p, std::uint32_t n) {
    charge(0, n);
    PyObject* s = in_key_ ? keys_.get(p, n) : PyUnicode_DecodeUTF8(p, n, nullptr);
    if (s == nullptr) {
      PyErr_Clear();
      corrupt("invalid UTF-8 in a str");
    }
    return push(s);
  }
  bool visit_bin(const char* p, std::uint32_t n) {
    return charge(0, n) && push(PyBytes_FromStringAndSize(p, n));
  }
  bool visit_ext(const char* p, std::uint32_t n) {
    if (n == 0) corrupt("extension without a type");
    const auto code = static_cast<std::int8_t>(p[0]);
    charge(0, ext_charge(code, n - 1));
    return push(decode_ext(code, p + 1, n - 1));
  }
  bool start_array(std::uint32_t n) { return charge(n, codec::kContainerCost) && enter(false); }
  bool start_array_item() { return true; }
  bool end_array_item() { return true; }
  bool end_array() {
    const std::size_t base = leave();
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(stack_.size() - base));
    if (list == nullptr) throw py::error_already_set();
    for (std::size_t i = base; i < stack_.size(); ++i) {
      PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i - base), stack_[i]);
    }
    stack_.resize(base);
    return push(list);
  }
  bool start_map(std::uint32_t n) {
    return charge(std::size_t{2} * n, codec::kContainerCost) && enter(true);
  }
  bool start_map_key() {
    in_key_ = true;
    return true;
  }
  bool end_map_key() {
    in_key_ = false;
    return true;
  }
  bool start_map_value() { return true; }
  bool end_map_value() { return true; }
  bool end_map() {
    const std::size_t base = leave();
    check_hash_spread(stack_.data() + base, (stack_.size() - base) / 2, 2);
    PyObject* dict = new_dict(static_cast<Py_ssize_t>((stack_.size() - base) / 2));
    if (dict == nullptr) throw py::error_already_set();
    for (std::size_t i = base; i + 1 < stack_.size(); i += 2) {
      if (PyDict_SetItem(dict, stack_[i], stack_[i + 1]) != 0) {
        Py_DECREF(dict);
        PyErr_Clear();
        corrupt("unhashable map key");
      }
    }
    for (std::size_t i = base; i < stack_.size(); ++i) Py_DECREF(stack_[i]);
    stack_.resize(base);
    return push(dict);
  }
  void parse_error(std::size_t /*parsed*/, std::size_t /*error*/) { corrupt("malformed msgpack"); }
  void insufficient_bytes(std::size_t /*parsed*/, std::size_t /*error*/) {
    corrupt("truncated msgpack");
  }
  [[nodiscard]] bool referenced() const { return false; }
  void set_referenced(bool /*referenced*/) {}

 private:
  struct Frame {
    std::size_t base;
    bool map;
  };

  /// Charges values (a container's declared elements, before any is read) and estimated bytes
  /// before they are built; throws Error(kTooLarge) past the limits.
  bool charge(std::size_t items, std::size_t bytes) {
    if (!budget_.charge(items, bytes)) budget_.exceeded_error();
    return true;
  }

  bool push(PyObject* o) {
    if (o == nullptr) throw py::error_already_set();
    stack_.push_back(o);
    return true;
  }

  [[nodiscard]] std::size_t level() const noexcept { return depth_ + frames_.size(); }

  /// Sized for the pairs actually read, so building it never resizes.
  static PyObject* new_dict(Py_ssize_t pairs) {
#if PY_VERSION_HEX < 0x030E0000
    return _PyDict_NewPresized(pairs);
#else
    (void)pairs;
    return PyDict_New();
#endif
  }

  bool enter(bool map) {
    in_key_ = false;
    if (level() + 1 > options_.max_depth) corrupt("value nested deeper than max_depth");
    frames_.push_back(Frame{stack_.size(), map});
    return true;
  }

  std::size_t leave() {
    const std::size_t base = frames_.back().base;
    frames_.pop_back();
    return base;
  }

  /// A value nested in an extension body, one level below this one.
  [[nodiscard]] py::object nested(const char* p, std::size_t n) const {
    if (level() + 1 > options_.max_depth) corrupt("value nested deeper than max_depth");
    return Builder(options_, level(), keys_, budget_, this).build(std::string_view(p, n));
  }

  PyObject* decode_ext(std::int8_t code, const char* p, std::size_t n) {
    switch (static_cast<ExtCode>(code)) {
      case ExtCode::kBigInt: {
        if (n == 0) corrupt("empty big int");
        const py::object v =
            py::module_::import("builtins")
                .attr("int")
                .attr("from_bytes")(py::bytes(p, n), "big", py::arg("signed") = true);
        return v.inc_ref().ptr();
      }
      case ExtCode::kTuple:
        return PyList_AsTuple(nested_list(p, n).ptr());
      case ExtCode::kSet:
        return new_set(PySet_New, p, n);
      case ExtCode::kFrozenSet:
        return new_set(PyFrozenSet_New, p, n);
      case ExtCode::kByteArray:
        return PyByteArray_FromStringAndSize(p, static_cast<Py_ssize_t>(n));
      case ExtCode::kDateTime:
        return decode_datetime(p, n);
      case ExtCode::kDate:
        if (n != detail::kDateBytes) corrupt("bad date");
        return PyDate_FromDate(static_cast<int>(get_be(p, 2)), static_cast<std::uint8_t>(p[2]),
                               static_cast<std::uint8_t>(p[3]));
      case ExtCode::kTime:
        return decode_time(p, n);
      case ExtCode::kTimeDelta:
        if (n != detail::kDeltaBytes) corrupt("bad timedelta");
        return PyDelta_FromDSU(static_cast<std::int32_t>(get_be(p, 4)),
                               static_cast<std::int32_t>(get_be(p + 4, 4)),
                               static_cast<std::int32_t>(get_be(p + 8, 4)));
      case ExtCode::kDecimal:
        return PyObject_CallOneArg(detail::py_types().decimal, text(p, n).ptr());
      case ExtCode::kUuid:
        if (n != 16) corrupt("bad UUID");
        return py::handle(detail::py_types().uuid)(py::none(), py::bytes(p, n)).release().ptr();
      case ExtCode::kEncryptedField:
        return decode_field(p, n);
    }
    const ExtType* ext = options_.types->by_code(code);
    if (ext == nullptr) corrupt("unknown extension type " + std::to_string(code));
    if (level() + 1 > options_.max_depth) corrupt("value nested deeper than max_depth");
    const py::object inner =
        Builder(options_, level() + 1, keys_, budget_, this).build(std::string_view(p, n));
    PyObject* built = PyObject_CallOneArg(ext->decode.ptr(), inner.ptr());
    if (built == nullptr) throw DecoderRaised();
    return built;
  }

  py::object nested_list(const char* p, std::size_t n) const {
    py::object list = nested(p, n);
    if (!PyList_CheckExact(list.ptr())) corrupt("extension body is not an array");
    return list;
  }

  PyObject* new_set(PyObject* (*make)(PyObject*), const char* p, std::size_t n) const {
    const py::object items = nested_list(p, n);
    check_hash_spread(reinterpret_cast<PyListObject*>(items.ptr())->ob_item,
                      static_cast<std::size_t>(PyList_GET_SIZE(items.ptr())), 1);
    PyObject* set = make(items.ptr());
    if (set == nullptr) {
      PyErr_Clear();
      corrupt("unhashable set item");
    }
    return set;
  }

  static PyObject* decode_tz(const char* p, std::size_t n) {
    if (n == 0) return Py_NewRef(Py_None);
    const auto kind = static_cast<std::uint8_t>(p[0]);
    if (kind == detail::kTzZone) {
      return PyObject_CallOneArg(detail::py_types().zoneinfo, text(p + 1, n - 1).ptr());
    }
    if (kind != detail::kTzOffset || n < 9) corrupt("bad time zone");
    const auto us = static_cast<std::int64_t>(get_be(p + 1, 8));
    constexpr std::int64_t kDay = 86'400'000'000;
    if (us <= -kDay || us >= kDay) corrupt("bad time zone offset");
    const py::object delta = py::reinterpret_steal<py::object>(
        PyDelta_FromDSU(0, static_cast<int>(us / 1'000'000), static_cast<int>(us % 1'000'000)));
    if (!delta) throw py::error_already_set();
    if (n == 9) return PyTimeZone_FromOffset(delta.ptr());
    const py::object name = py::reinterpret_steal<py::object>(
        PyUnicode_DecodeUTF8(p + 9, static_cast<Py_ssize_t>(n - 9), nullptr));
    if (!name) throw py::error_already_set();
    return PyTimeZone_FromOffsetAndName(delta.ptr(), name.ptr());
  }

  static PyObject* decode_time(const char* p, std::size_t n) {
    if (n < detail::kTimeBytes) corrupt("bad time");
    const py::object tz = py::reinterpret_steal<py::object>(
        decode_tz(p + detail::kTimeBytes, n - detail::kTimeBytes));
    if (!tz) throw py::error_already_set();
    return PyDateTimeAPI->Time_FromTimeAndFold(
        static_cast<std::uint8_t>(p[0]), static_cast<std::uint8_t>(p[1]),
        static_cast<std::uint8_t>(p[2]), static_cast<int>(get_be(p + 3, 3)), tz.ptr(),
        static_cast<std::uint8_t>(p[6]), PyDateTimeAPI->TimeType);
  }

  static PyObject* decode_datetime(const char* p, std::size_t n) {
    constexpr std::size_t kFixed = detail::kDateBytes + detail::kTimeBytes;
    if (n < kFixed) corrupt("bad datetime");
    const py::object tz = py::reinterpret_steal<py::object>(decode_tz(p + kFixed, n - kFixed));
    if (!tz) throw py::error_already_set();
    const char* t = p + detail::kDateBytes;
    return PyDateTimeAPI->DateTime_FromDateAndTimeAndFold(
        static_cast<int>(get_be(p, 2)), static_cast<std::uint8_t>(p[2]),
        static_cast<std::uint8_t>(p[3]), static_cast<std::uint8_t>(t[0]),
        static_cast<std::uint8_t>(t[1]), static_cast<std::uint8_t>(t[2]),
        static_cast<int>(get_be(t + 3, 3)), tz.ptr(), static_cast<std::uint8_t>(t[6]),
        PyDateTimeAPI->DateTimeType);
  }

  /// A sealed field sits in a map value position, right after its str key (the field name,
  /// part of the associated data).
  PyObject* decode_field(const char* p, std::size_t n) {
    if (frames_.empty() || !frames_.back().map || (stack_.size() - frames_.back().base) % 2 == 0 ||
        !PyUnicode_CheckExact(stack_.back())) {
      corrupt("encrypted field outside a dict value");
    }
    Py_ssize_t len = 0;
    const char* name = PyUnicode_AsUTF8AndSize(stack_.back(), &len);
    if (name == nullptr) throw py::error_already_set();
    const std::string_view sealed(p, n);
    const FieldCrypt& crypt = *options_.fields;
    if (crypt.keys.empty()) {
      const std::optional<std::uint16_t> id = codec::sealed_field_key_id(sealed);
      if (!id) corrupt("truncated encrypted field");
      return crypt.placeholder(py::str(name, len), *id).release().ptr();
    }
    std::string path;
    append_path(path);
    Result<std::string> plain = codec::open_field(crypt.keys, options_.cache_key, path, sealed);
    if (!plain) plain.rethrow();
    return nested(plain.value().data(), plain.value().size()).release().ptr();
  }

  /// The path (as Packer builds it) to the value being built now: the parents' positions,
  /// then for each open container the key or index of its entry under construction.
  void append_path(std::string& out) const {
    if (parent_ != nullptr) parent_->append_path(out);
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const std::size_t end = i + 1 < frames_.size() ? frames_[i + 1].base : stack_.size();
      if (frames_[i].map) {
        append_key_step(out, stack_[end - 1]);
      } else {
        append_index_step(out, end - frames_[i].base);
      }
    }
  }

  const WalkOptions& options_;
  std::size_t depth_;
  KeyCache& keys_;
  codec::DecodeBudget& budget_;
  const Builder* parent_;  ///< the walk whose extension body this one reads, if any
  bool in_key_ = false;
  std::vector<PyObject*> stack_;
  std::vector<Frame> frames_;
};

}  // namespace

py::object unpack_value(std::string_view bytes, const WalkOptions& options) {
  codec::DecodeBudget budget(options.limits);
  return Builder(options, 0, KeyCache::shared(), budget).build(bytes);
}

}  // namespace stratacache::bindings
