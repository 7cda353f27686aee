// Decorator hit path (bench/py/bench_l1.py case "decorator-hit"): a pure-Python wrapper spends
// most of a hit formatting the key, so CachedCall formats scalar arguments exactly as the
// Python key builder does (`head + repr(a) + "," + repr(b)`, python/stratacache/_keys.py),
// hashes the bytes as CPython hashes the equal str, and looks the key up in the bound getter's
// store. A hit returns without running Python; a miss calls the miss handler with the key
// built here (`on_miss(key, args, {})`, the Python miss path, so the key is built once and L1
// looked up once); anything the key is not built for (keywords, a missing argument, a
// non-scalar or non-ASCII argument) goes to the Python wrapper, which builds the key itself.
// In probe mode (no fallback, for async wrappers) a miss returns the `miss` sentinel and an
// unbuilt key the `unkeyed` one; `key()` then gives the key to await the miss path with.
// No logic beyond formatting lives here.
#include <bit>
#include <charconv>
#include <cstring>

#include "fast_call.hpp"

#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
// 3.13 moved _Py_HashBytes to the internal headers but still exports it; 3.14 has Py_HashBuffer.
extern "C" PyAPI_FUNC(Py_hash_t) _Py_HashBytes(const void*, Py_ssize_t);
#endif

namespace stratacache::bindings {
namespace {

constexpr std::size_t kMaxKeyBytes = 250;  // _keys.MAX_KEY_BYTES: longer keys get shortened

// The key being built. Small appends (a character, an int's digits) write in place rather than
// through a libc memcpy call; 8 bytes of slack let the hash read the last word whole.
class KeyBuffer {
 public:
  explicit KeyBuffer(const std::string& head) : n_(head.size()) {
    std::memcpy(buf_, head.data(), n_);
  }
  bool append(const char* p, std::size_t len) {
    if (n_ + len > kMaxKeyBytes) return false;
    std::memcpy(buf_ + n_, p, len);
    n_ += len;
    return true;
  }
  bool append(char c) {
    if (n_ == kMaxKeyBytes) return false;
    buf_[n_++] = c;
    return true;
  }
  bool append_int(long long x) {
    const auto r = std::to_chars(buf_ + n_, buf_ + kMaxKeyBytes, x);
    if (r.ec != std::errc{}) return false;
    n_ = static_cast<std::size_t>(r.ptr - buf_);
    return true;
  }
  [[nodiscard]] std::string_view view() const { return {buf_, n_}; }
  // The bytes [at, size()) as the low bytes of a little-endian word; `at` + 8 > size().
  [[nodiscard]] std::uint64_t tail_word(std::size_t at) const noexcept {
    std::uint64_t t;
    std::memcpy(&t, buf_ + at, 8);  // within the slack: reads no byte past buf_
    const std::size_t left = n_ - at;
    return left == 0 ? 0 : t & (~std::uint64_t{0} >> (64 - 8 * left));
  }

 private:
  char buf_[kMaxKeyBytes + 8];
  std::size_t n_;
};

// CPython's str hash, SipHash-1-3 (Python/pyhash.c), resumable after the key's constant head:
// the state after the head's whole 8-byte words is computed once per function, so a call hashes
// only the head's tail and the arguments (about half the hashing of a short key). Used where
// the interpreter's hash is that one and its key is readable (3.11 and 3.12, little-endian);
// elsewhere the call hashes the whole key with CPython's own function.
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000 && Py_HASH_CUTOFF == 0
#define STRATACACHE_OWN_SIPHASH 1
#else
#define STRATACACHE_OWN_SIPHASH 0
#endif

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  void round() noexcept {  // SINGLE_ROUND of pyhash.c
    v0 += v1;
    v2 += v3;
    v1 = std::rotl(v1, 13) ^ v0;
    v3 = std::rotl(v3, 16) ^ v2;
    v0 = std::rotl(v0, 32);
    v2 += v1;
    v0 += v3;
    v1 = std::rotl(v1, 17) ^ v2;
    v3 = std::rotl(v3, 21) ^ v0;
    v2 = std::rotl(v2, 32);
  }
  void word(std::uint64_t m) noexcept {
    v3 ^= m;
    round();
    v0 ^= m;
  }
  // Absorbs `n` bytes, n a multiple of 8.
  void words(const char* p, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; i += 8) {
      std::uint64_t m;
      std::memcpy(&m, p + i, 8);
      word(m);
    }
  }
};

// True if this interpreter hashes str with SipHash-1-3 as reproduced here.
bool own_siphash() {
#if STRATACACHE_OWN_SIPHASH
  if constexpr (std::endian::native != std::endian::little) return false;
  return std::strcmp(PyHash_GetFuncDef()->name, "siphash13") == 0;
#else
  return false;
#endif
}

SipState sip_start() {
  SipState s{};
#if STRATACACHE_OWN_SIPHASH
  const std::uint64_t k0 = _Py_HashSecret.siphash.k0;
  const std::uint64_t k1 = _Py_HashSecret.siphash.k1;
  s = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
       k1 ^ 0x7465646279746573ULL};
#endif
  return s;
}

// hash(str) of the ASCII `key`, whose first `done` bytes (a multiple of 8) `s` has absorbed.
std::uint64_t sip_finish(SipState s, const KeyBuffer& key, std::size_t done) noexcept {
  const std::size_t n = key.view().size();
  const std::size_t whole = n & ~std::size_t{7};
  s.words(key.view().data() + done, whole - done);
  const std::uint64_t b = (static_cast<std::uint64_t>(n) << 56) | key.tail_word(whole);
  s.word(b);
  s.v2 ^= 0xff;
  s.round();
  s.round();
  s.round();
  const std::uint64_t h = (s.v0 ^ s.v1) ^ (s.v2 ^ s.v3);
  // _Py_HashBytes: an empty key hashes to 0, and -1 is reserved for errors.
  if (n == 0) return 0;
  return static_cast<Py_hash_t>(h) == -1 ? static_cast<std::uint64_t>(-2) : h;
}

struct CachedCall {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* dict;      // __dict__: functools.wraps attributes, invalidate, cache_info
  PyObject* fallback;  // the Python wrapper, or nullptr in probe mode
  PyObject* miss;      // returned by a probe that does not hit
  PyObject* unkeyed;   // returned by a probe that cannot build the key
  PyObject* on_miss;   // on_miss(key, args, kwargs), or nullptr: the fallback answers misses
  PyObject* getter;    // a FastGet whose store and prefix are used; nullptr until bound
  std::string* head;   // "<module>.<qualname>:", ASCII
  Py_ssize_t nparams;
  unsigned long long hits;
  bool own_hash;          // sip_finish from `head_state`; else CPython's _Py_HashBytes
  std::size_t head_done;  // bytes of the head `head_state` absorbed (whole words)
  SipState head_state;
};

// True if repr() of this text is the text in single quotes: printable ASCII, no ' and no \.
bool plain_ascii(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c > 0x7e || c == '\'' || c == '\\') return false;
  }
  return true;
}

// Appends repr(v) for the scalar types the Python fast path formats with repr(); false for
// anything whose repr is not reproduced here (the Python wrapper then builds the key).
bool append_repr(KeyBuffer& key, PyObject* v) {
  if (PyLong_CheckExact(v)) {  // first: the common argument (exact: bool is not one)
    long long x = 0;
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact(reinterpret_cast<PyLongObject*>(v))) {
      x = PyUnstable_Long_CompactValue(reinterpret_cast<PyLongObject*>(v));
    } else
#elif PY_VERSION_HEX >= 0x030B0000
    // 3.11's layout: the sign in ob_size, one 30-bit digit for |x| < 2**30.
    if (const Py_ssize_t size = Py_SIZE(v); size >= -1 && size <= 1) {
      x = static_cast<long long>(size) * reinterpret_cast<PyLongObject*>(v)->ob_digit[0];
    } else
#endif
    {
      int overflow = 0;
      x = PyLong_AsLongLongAndOverflow(v, &overflow);
      if (overflow != 0) return false;
    }
    return key.append_int(x);
  }
  if (v == Py_None) return key.append("None", 4);
  if (PyBool_Check(v)) return v == Py_True ? key.append("True", 4) : key.append("False", 5);
  if (PyFloat_CheckExact(v)) {
    char* text = PyOS_double_to_string(PyFloat_AS_DOUBLE(v), 'r', 0, Py_DTSF_ADD_DOT_0, nullptr);
    if (text == nullptr) {
      PyErr_Clear();
      return false;
    }
    const bool ok = key.append(text, std::strlen(text));
    PyMem_Free(text);
    return ok;
  }
  if (PyUnicode_CheckExact(v)) {
    if (!PyUnicode_IS_ASCII(v)) return false;
    const auto* p = static_cast<const char*>(PyUnicode_DATA(v));
    const auto n = static_cast<std::size_t>(PyUnicode_GET_LENGTH(v));
    return plain_ascii(p, n) && key.append('\'') && key.append(p, n) && key.append('\'');
  }
  if (PyBytes_CheckExact(v)) {
    const char* p = PyBytes_AS_STRING(v);
    const auto n = static_cast<std::size_t>(PyBytes_GET_SIZE(v));
    return plain_ascii(p, n) && key.append("b'", 2) && key.append(p, n) && key.append('\'');
  }
  return false;
}

// CPython's hash of the ASCII str with these bytes (unicode_hash hashes its 1-byte data).
std::uint64_t ascii_str_hash(const CachedCall* c, const KeyBuffer& key) {
  if (c->own_hash) return sip_finish(c->head_state, key, c->head_done);
  const std::string_view bytes = key.view();
#if PY_VERSION_HEX >= 0x030E0000
  const Py_hash_t h = Py_HashBuffer(bytes.data(), static_cast<Py_ssize_t>(bytes.size()));
#else
  const Py_hash_t h = _Py_HashBytes(bytes.data(), static_cast<Py_ssize_t>(bytes.size()));
#endif
  return static_cast<std::uint64_t>(h);
}

// Formats the key of a positional call of `nparams` scalars; false if it cannot.
bool build_key(const CachedCall* c, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
               KeyBuffer& key) {
  if (kwnames != nullptr || nargs != c->nparams) return false;
  for (Py_ssize_t i = 0; i < nargs; ++i) {
    if ((i > 0 && !key.append(',')) || !append_repr(key, args[i])) return false;
  }
  return true;
}

// The miss path with the key built here: on_miss(key, args, {}).
PyObject* call_on_miss(const CachedCall* c, PyObject* const* args, Py_ssize_t nargs,
                       std::string_view key) {
  PyObject* call[3] = {PyUnicode_FromStringAndSize(key.data(), static_cast<Py_ssize_t>(key.size())),
                       PyTuple_New(nargs), PyDict_New()};
  PyObject* result = nullptr;
  if (call[0] != nullptr && call[1] != nullptr && call[2] != nullptr) {
    for (Py_ssize_t i = 0; i < nargs; ++i) PyTuple_SET_ITEM(call[1], i, Py_NewRef(args[i]));
    result = PyObject_Vectorcall(c->on_miss, call, 3, nullptr);
  }
  for (PyObject* o : call) Py_XDECREF(o);
  return result;
}

PyObject* cached_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* c = reinterpret_cast<CachedCall*>(self);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  auto* g = reinterpret_cast<FastCall*>(c->getter);
  KeyBuffer key(*c->head);
  if (g != nullptr && g->store != nullptr && build_key(c, args, nargs, kwnames, key)) {
    const std::uint64_t hash = mix64(ascii_str_hash(c, key) ^ g->seed);
    // `get`, not `probe`: this is the call's one counted (and recorded) L1 lookup.
    auto v = g->store->get(store::KeyView{*g->prefix, key.view(), g->ns}, hash);
    if (v) {
      ++c->hits;
      return v->release().ptr();
    }
    if (c->on_miss != nullptr) return call_on_miss(c, args, nargs, key.view());
    if (c->fallback == nullptr) return Py_NewRef(c->miss);
  }
  if (c->fallback != nullptr) return PyObject_Vectorcall(c->fallback, args, nargsf, kwnames);
  return Py_NewRef(c->unkeyed);
}

int cc_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* c = reinterpret_cast<CachedCall*>(self);
  Py_VISIT(c->dict);
  Py_VISIT(c->fallback);
  Py_VISIT(c->miss);
  Py_VISIT(c->unkeyed);
  Py_VISIT(c->on_miss);
  Py_VISIT(c->getter);
  return 0;
}

int cc_clear(PyObject* self) {
  auto* c = reinterpret_cast<CachedCall*>(self);
  Py_CLEAR(c->dict);
  Py_CLEAR(c->fallback);
  Py_CLEAR(c->miss);
  Py_CLEAR(c->unkeyed);
  Py_CLEAR(c->on_miss);
  Py_CLEAR(c->getter);
  return 0;
}

void cc_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  cc_clear(self);
  delete reinterpret_cast<CachedCall*>(self)->head;
  Py_TYPE(self)->tp_free(self);
}

PyObject* cc_bind(PyObject* self, PyObject* getter) {
  if (Py_TYPE(getter) != &getter_type) {
    PyErr_SetString(PyExc_TypeError, "bind() takes a Store.getter() object");
    return nullptr;
  }
  auto* c = reinterpret_cast<CachedCall*>(self);
  Py_XSETREF(c->getter, Py_NewRef(getter));
  Py_RETURN_NONE;
}

// key(*args): the key this entry builds for a positional call, or None if it builds none.
PyObject* cc_key(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  auto* c = reinterpret_cast<CachedCall*>(self);
  KeyBuffer key(*c->head);
  if (!build_key(c, args, nargs, nullptr, key)) Py_RETURN_NONE;
  return PyUnicode_FromStringAndSize(key.view().data(), static_cast<Py_ssize_t>(key.view().size()));
}

PyObject* cc_hits(PyObject* self, void* /*closure*/) {
  return PyLong_FromUnsignedLongLong(reinterpret_cast<CachedCall*>(self)->hits);
}

PyMethodDef cc_methods[] = {
    {"bind", cc_bind, METH_O, "bind(getter): look keys up through this Store.getter()."},
    {"key", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(cc_key)), METH_FASTCALL,
     "key(*args): the key built for this positional call, or None."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef cc_getset[] = {
    {"hits", cc_hits, nullptr, "hits answered by this fast path", nullptr},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyTypeObject make_cached_call_type() {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "stratacache._core.CachedCall";
  t.tp_doc = "A cached function's call entry: hits in C, everything else in Python.";
  t.tp_basicsize = sizeof(CachedCall);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  t.tp_vectorcall_offset = offsetof(CachedCall, vectorcall);
  t.tp_dictoffset = offsetof(CachedCall, dict);
  t.tp_call = PyVectorcall_Call;
  t.tp_traverse = cc_traverse;
  t.tp_clear = cc_clear;
  t.tp_dealloc = cc_dealloc;
  t.tp_methods = cc_methods;
  t.tp_getset = cc_getset;
  return t;
}

PyTypeObject cached_call_type = make_cached_call_type();

py::object make_cached_call(const py::object& fallback, const py::object& miss,
                            const std::string& head, Py_ssize_t nparams, const py::object& on_miss,
                            const py::object& unkeyed) {
  for (const char ch : head) {
    if (static_cast<unsigned char>(ch) > 0x7e) throw py::value_error("head must be ASCII");
  }
  if (head.size() > kMaxKeyBytes) throw py::value_error("head longer than a key may be");
  auto* c = PyObject_GC_New(CachedCall, &cached_call_type);
  if (c == nullptr) throw py::error_already_set();
  c->vectorcall = cached_call;
  c->dict = nullptr;
  c->fallback = fallback.is_none() ? nullptr : Py_NewRef(fallback.ptr());
  c->miss = Py_NewRef(miss.ptr());
  c->unkeyed = Py_NewRef(unkeyed.is_none() ? miss.ptr() : unkeyed.ptr());
  c->on_miss = on_miss.is_none() ? nullptr : Py_NewRef(on_miss.ptr());
  c->getter = nullptr;
  c->head = new std::string(head);
  c->nparams = nparams;
  c->hits = 0;
  c->own_hash = own_siphash();
  c->head_done = head.size() & ~std::size_t{7};
  c->head_state = sip_start();
  if (c->own_hash) c->head_state.words(head.data(), c->head_done);
  PyObject_GC_Track(reinterpret_cast<PyObject*>(c));
  return py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(c));
}

}  // namespace

void bind_cached_call(py::module_& m) {
  if (PyType_Ready(&cached_call_type) < 0) throw py::error_already_set();
  m.attr("CachedCall") = py::handle(reinterpret_cast<PyObject*>(&cached_call_type));
  m.def("cached_call", &make_cached_call, py::arg("fallback"), py::arg("miss"), py::arg("head"),
        py::arg("nparams"), py::arg("on_miss") = py::none(), py::arg("unkeyed") = py::none(),
        "A CachedCall: fallback is the Python wrapper (None: probe mode returning `miss`, or "
        "`unkeyed` (default: `miss`) when it builds no key); on_miss(key, args, kwargs) "
        "answers a miss whose key it built.");
}

}  // namespace stratacache::bindings
