// Vectorcall entry points for the two hottest calls, L1 get and set (bench/py/bench_l1.py cases
// "get-hit" and "set"): pybind11's generic dispatch costs more than the lookup itself, so
// `Store.getter()` and `Store.setter()` return small callables with METH_FASTCALL-style calls
// bound to one store and one key prefix. Same engine calls as bind_store.cpp; no logic here.
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "dropped.hpp"
#include "fast_call.hpp"

namespace stratacache::bindings {
namespace {

int fast_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* f = reinterpret_cast<FastCall*>(self);
  Py_VISIT(f->owner);
  Py_VISIT(f->extra);
  return 0;
}

int fast_clear(PyObject* self) {
  auto* f = reinterpret_cast<FastCall*>(self);
  Py_CLEAR(f->owner);
  Py_CLEAR(f->extra);
  f->store = nullptr;
  return 0;
}

void fast_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  fast_clear(self);
  auto* f = reinterpret_cast<FastCall*>(self);
  delete f->prefix;
  Py_TYPE(self)->tp_free(self);
}

// Resolves one optional argument given positionally at `pos` or as keyword `name`.
bool optional_arg(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, Py_ssize_t pos,
                  const char* name, PyObject** out) {
  if (nargs > pos) *out = args[pos];
  if (kwnames == nullptr) return true;
  const Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
  for (Py_ssize_t i = 0; i < nkw; ++i) {
    PyObject* kw = PyTuple_GET_ITEM(kwnames, i);
    if (PyUnicode_CompareWithASCIIString(kw, name) != 0 || nargs > pos) {
      PyErr_Format(PyExc_TypeError, "unexpected keyword argument '%U'", kw);
      return false;
    }
    *out = args[nargs + i];
  }
  return true;
}

// The setter's buffer for the values a set hands back. Dropped's thread-local pool cost ~150
// instructions a set (a __tls_get_addr call each way); with the GIL held, one buffer serves
// every setter, and a set that finds it in use (a decref's __del__ re-entering a setter, or
// another thread taking the GIL meanwhile) takes a pooled Dropped instead.
class SetterBuffer {
 public:
  SetterBuffer() {
#ifndef Py_GIL_DISABLED
    if (!busy_) {
      busy_ = true;
      return;
    }
#endif
    fallback_.emplace();
  }
  ~SetterBuffer() {
    if (fallback_) return;
    shared_.clear();  // already empty unless a throw skipped drop_values
    busy_ = false;
  }
  SetterBuffer(const SetterBuffer&) = delete;
  SetterBuffer& operator=(const SetterBuffer&) = delete;

  std::vector<py::object>& values() noexcept { return fallback_ ? fallback_->values() : shared_; }

 private:
  static inline std::vector<py::object> shared_;
  static inline bool busy_ = false;
  std::optional<Dropped> fallback_;
};

bool check_alive(const FastCall* f) {
  if (f->store != nullptr) return true;
  PyErr_SetString(PyExc_RuntimeError, "the cache behind this call was cleared");
  return false;
}

// get(key, default=None): the stored object on a hit; on a miss on_miss(key, default) if set,
// else default.
PyObject* fast_get(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* f = reinterpret_cast<FastCall*>(self);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  PyObject* default_ = Py_None;
  if (nargs < 1 || nargs > 2) {
    PyErr_SetString(PyExc_TypeError, "get() takes a key and an optional default");
    return nullptr;
  }
  if (!optional_arg(args, nargs, kwnames, 1, "default", &default_) || !check_alive(f)) {
    return nullptr;
  }
  PyObject* key = args[0];
  std::string_view body;
  if (!key_bytes(key, body)) return nullptr;
  auto v = f->store->get(store::KeyView{*f->prefix, body, f->ns}, key_hash(f->seed, key));
  if (v) return v->release().ptr();
  if (f->extra != Py_None) {
    PyObject* call_args[2] = {key, default_};
    return PyObject_Vectorcall(f->extra, call_args, 2, nullptr);
  }
  return Py_NewRef(default_);
}

// set(key, value, ttl=None): stores with weight 1; ttl None means the default TTL. Returns None.
PyObject* fast_set(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* f = reinterpret_cast<FastCall*>(self);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs < 2 || nargs > 3) {
    PyErr_SetString(PyExc_TypeError, "set() takes a key, a value and an optional ttl");
    return nullptr;
  }
  PyObject* ttl_obj = nullptr;
  if (!optional_arg(args, nargs, kwnames, 2, "ttl", &ttl_obj)) {
    // A keyword the fast path does not take (tags=...): the Python fallback, if any, answers.
    if (f->extra == Py_None) return nullptr;
    PyErr_Clear();
    return PyObject_Vectorcall(f->extra, args, nargsf, kwnames);
  }
  if (!check_alive(f)) return nullptr;
  if (ttl_obj != nullptr && ttl_obj != Py_None && f->extra != Py_None && !PyLong_Check(ttl_obj) &&
      !PyFloat_Check(ttl_obj)) {
    return PyObject_Vectorcall(f->extra, args, nargsf, kwnames);  // a timedelta, or a bad ttl
  }
  PyObject* key = args[0];
  std::string_view body;
  if (!key_bytes(key, body)) return nullptr;
  SetterBuffer buffer;
  auto& dropped = buffer.values();
  try {
    const bool use_default = ttl_obj == nullptr || ttl_obj == Py_None;
    const std::optional<Nanos> ttl = use_default ? f->default_ttl : ttl_shim(ttl_obj);
    f->store->set(store::KeyView{*f->prefix, body, f->ns}, key_hash(f->seed, key),
                  py::reinterpret_borrow<py::object>(args[1]), 1, ttl, dropped);
  } catch (const Error& e) {
    drop_values(dropped);
    set_python_error(e);
    return nullptr;
  } catch (const py::builtin_exception& e) {
    drop_values(dropped);
    e.set_error();
    return nullptr;
  } catch (py::error_already_set& e) {
    drop_values(dropped);
    e.restore();
    return nullptr;
  } catch (const std::exception& e) {
    drop_values(dropped);
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
  drop_values(dropped);
  Py_RETURN_NONE;
}

PyTypeObject make_type(const char* name, const char* doc) {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = name;
  t.tp_doc = doc;
  t.tp_basicsize = sizeof(FastCall);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  t.tp_vectorcall_offset = offsetof(FastCall, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_traverse = fast_traverse;
  t.tp_clear = fast_clear;
  t.tp_dealloc = fast_dealloc;
  return t;
}

PyTypeObject setter_type = make_type("stratacache._core.FastSet", "set(key, value, ttl=...)");

py::object make_fast(PyTypeObject* type, vectorcallfunc call, const py::object& owner,
                     const std::string& prefix, const py::object& extra,
                     std::optional<Nanos> default_ttl) {
  auto* f = PyObject_GC_New(FastCall, type);
  if (f == nullptr) throw py::error_already_set();
  f->vectorcall = call;
  f->owner = Py_NewRef(owner.ptr());
  f->extra = Py_NewRef(extra.ptr());
  f->store = owner.cast<StoreHandle&>().store.get();
  f->prefix = new std::string(prefix);
  f->seed = prefix_seed(prefix);
  f->ns = f->store->namespace_slot(prefix);
  f->default_ttl = default_ttl;
  PyObject_GC_Track(reinterpret_cast<PyObject*>(f));
  return py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(f));
}

// The same calls as builtin functions. CPython's interpreter calls a builtin function's C
// function straight from the call site (CALL_BUILTIN_FAST_WITH_KEYWORDS), while any other
// vectorcall object goes through PyObject_Vectorcall and a result check: ~45 instructions more
// per call, a sixth of a get-hit's own (callgrind). Cache.get and Cache.set are these.
PyObject* get_method(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return fast_get(self, args, static_cast<std::size_t>(nargs), kwnames);
}
PyObject* set_method(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  return fast_set(self, args, static_cast<std::size_t>(nargs), kwnames);
}
template <auto Method>
constexpr PyCFunction as_cfunction() {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Method));
}
PyMethodDef get_def{"get", as_cfunction<get_method>(), METH_FASTCALL | METH_KEYWORDS,
                    "get(key, default=None)"};
PyMethodDef set_def{"set", as_cfunction<set_method>(), METH_FASTCALL | METH_KEYWORDS,
                    "set(key, value, ttl=None)"};

}  // namespace

PyTypeObject getter_type = make_type("stratacache._core.FastGet", "get(key, default=None)");

void bind_fast_store(py::module_& m, py::class_<StoreHandle>& cls) {
  for (PyTypeObject* t : {&getter_type, &setter_type}) {
    if (PyType_Ready(t) < 0) throw py::error_already_set();
  }
  m.attr("FastGet") = py::handle(reinterpret_cast<PyObject*>(&getter_type));
  m.attr("FastSet") = py::handle(reinterpret_cast<PyObject*>(&setter_type));
  cls.def(
      "getter",
      [](const py::object& self, const std::string& prefix, const py::object& on_miss) {
        return make_fast(&getter_type, fast_get, self, prefix, on_miss, std::nullopt);
      },
      py::arg("prefix"), py::arg("on_miss") = py::none());
  cls.def(
      "setter",
      [](const py::object& self, const std::string& prefix, const py::object& default_ttl,
         const py::object& fallback) {
        return make_fast(&setter_type, fast_set, self, prefix, fallback, ttl_shim(default_ttl));
      },
      py::arg("prefix"), py::arg("default_ttl") = py::none(), py::arg("fallback") = py::none());
  m.def(
      "builtin_call",
      [](const py::object& fast) {
        PyMethodDef* def = Py_TYPE(fast.ptr()) == &getter_type   ? &get_def
                           : Py_TYPE(fast.ptr()) == &setter_type ? &set_def
                                                                 : nullptr;
        if (def == nullptr) throw py::type_error("builtin_call() takes a FastGet or a FastSet");
        PyObject* f = PyCFunction_NewEx(def, fast.ptr(), nullptr);
        if (f == nullptr) throw py::error_already_set();
        return py::reinterpret_steal<py::object>(f);
      },
      py::arg("fast"));
  bind_cached_call(m);
  bind_cached_method(m);
}

}  // namespace stratacache::bindings
