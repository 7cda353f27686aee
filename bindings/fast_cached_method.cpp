// Cached methods' hit path (no bench/py case yet; the numbers are in the commit message): a
// Python descriptor and a functools.partial per access made a method's hit several times a
// function's, so this descriptor binds the instance in C. No logic beyond binding lives here.
#include <cstring>

#include "fast_call.hpp"

namespace stratacache::bindings {
namespace {

// A cached method (a function whose first parameter is a keyed self/cls): the descriptor binds
// calls and invalidate() to the instance without a Python frame. Through an instance, a call
// skips binding altogether (Py_TPFLAGS_METHOD_DESCRIPTOR: the interpreter passes the instance
// first); `obj.method` is a BoundCachedMethod. `bind_owner` binds the class even through an
// instance (a classmethod decorated from outside).
struct CachedMethod {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* dict;  // functools.update_wrapper attributes, invalidate, cache_info, cache_clear
  PyObject* func;  // the Python wrapper taking self/cls first
  bool bind_owner;
};

struct BoundCachedMethod {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* method;  // the CachedMethod
  PyObject* self;    // the instance (or class) passed first
};

PyObject* cm_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  return PyObject_Vectorcall(reinterpret_cast<CachedMethod*>(self)->func, args, nargsf, kwnames);
}

// Calls `func(first, *args, **kwnames)` with the vectorcall arguments of a bound call.
PyObject* call_with_first(PyObject* func, PyObject* first, PyObject* const* args, size_t nargsf,
                          PyObject* kwnames) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  const Py_ssize_t total = nargs + (kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames));
  if ((nargsf & PY_VECTORCALL_ARGUMENTS_OFFSET) != 0) {  // the caller lent us args[-1]
    auto** slot = const_cast<PyObject**>(args) - 1;
    PyObject* saved = *slot;
    *slot = first;
    PyObject* result = PyObject_Vectorcall(func, slot, nargs + 1, kwnames);
    *slot = saved;
    return result;
  }
  constexpr Py_ssize_t kSmall = 8;
  PyObject* small[kSmall + 1];
  PyObject** buf = small;
  if (total > kSmall) {
    buf = static_cast<PyObject**>(PyMem_Malloc(sizeof(PyObject*) * (total + 1)));
    if (buf == nullptr) return PyErr_NoMemory();
  }
  buf[0] = first;
  std::memcpy(buf + 1, args, sizeof(PyObject*) * total);
  PyObject* result = PyObject_Vectorcall(func, buf, nargs + 1, kwnames);
  if (buf != small) PyMem_Free(buf);
  return result;
}

PyObject* bm_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* b = reinterpret_cast<BoundCachedMethod*>(self);
  auto* m = reinterpret_cast<CachedMethod*>(b->method);
  return call_with_first(m->func, b->self, args, nargsf, kwnames);
}

int bm_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* b = reinterpret_cast<BoundCachedMethod*>(self);
  Py_VISIT(b->method);
  Py_VISIT(b->self);
  return 0;
}

int bm_clear(PyObject* self) {
  auto* b = reinterpret_cast<BoundCachedMethod*>(self);
  Py_CLEAR(b->method);
  Py_CLEAR(b->self);
  return 0;
}

void bm_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  bm_clear(self);
  Py_TYPE(self)->tp_free(self);
}

// Attributes the type lacks (__name__, __wrapped__, ...) and __doc__ are the method's;
// __signature__ is its `_sc_bound_signature` (without the first parameter, as a bound
// method's).
PyObject* bm_getattro(PyObject* self, PyObject* name) {
  if (PyUnicode_CompareWithASCIIString(name, "__doc__") == 0) {
    return PyObject_GetAttr(reinterpret_cast<BoundCachedMethod*>(self)->method, name);
  }
  PyObject* v = PyObject_GenericGetAttr(self, name);
  if (v != nullptr || !PyErr_ExceptionMatches(PyExc_AttributeError)) return v;
  PyErr_Clear();
  PyObject* method = reinterpret_cast<BoundCachedMethod*>(self)->method;
  if (PyUnicode_CompareWithASCIIString(name, "__signature__") == 0) {
    return PyObject_GetAttrString(method, "_sc_bound_signature");
  }
  return PyObject_GetAttr(method, name);
}

// invalidate(*args, **kwargs): the method's invalidate with the bound instance first.
PyObject* bm_invalidate(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* b = reinterpret_cast<BoundCachedMethod*>(self);
  PyObject* inv = PyObject_GetAttrString(b->method, "invalidate");
  if (inv == nullptr) return nullptr;
  PyObject* result = call_with_first(inv, b->self, args, PyVectorcall_NARGS(nargsf), kwnames);
  Py_DECREF(inv);
  return result;
}

PyObject* bm_forward(PyObject* self, const char* name) {
  return PyObject_CallMethod(reinterpret_cast<BoundCachedMethod*>(self)->method, name, nullptr);
}

PyObject* bm_cache_info(PyObject* self, PyObject* /*unused*/) {
  return bm_forward(self, "cache_info");
}

PyObject* bm_cache_clear(PyObject* self, PyObject* /*unused*/) {
  return bm_forward(self, "cache_clear");
}

PyObject* bm_get_self(PyObject* self, void* /*closure*/) {
  return Py_NewRef(reinterpret_cast<BoundCachedMethod*>(self)->self);
}

PyObject* bm_get_func(PyObject* self, void* /*closure*/) {
  return Py_NewRef(reinterpret_cast<BoundCachedMethod*>(self)->method);
}

PyMethodDef bm_methods[] = {
    {"invalidate", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(bm_invalidate)),
     METH_FASTCALL | METH_KEYWORDS, "Deletes the entry of the bound instance and these arguments."},
    {"cache_info", bm_cache_info, METH_NOARGS, "The cached function's counters."},
    {"cache_clear", bm_cache_clear, METH_NOARGS, "Deletes every entry of the cached function."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef bm_getset[] = {
    {"__self__", bm_get_self, nullptr, "the instance (or class) passed first", nullptr},
    {"__func__", bm_get_func, nullptr, "the cached method", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyTypeObject make_bound_method_type() {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "stratacache._core.BoundCachedMethod";
  t.tp_doc = "A cached method bound to its instance (or class).";
  t.tp_basicsize = sizeof(BoundCachedMethod);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  t.tp_vectorcall_offset = offsetof(BoundCachedMethod, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_traverse = bm_traverse;
  t.tp_clear = bm_clear;
  t.tp_dealloc = bm_dealloc;
  t.tp_getattro = bm_getattro;
  t.tp_methods = bm_methods;
  t.tp_getset = bm_getset;
  return t;
}

PyTypeObject bound_method_type = make_bound_method_type();

PyObject* cm_descr_get(PyObject* self, PyObject* obj, PyObject* type) {
  auto* m = reinterpret_cast<CachedMethod*>(self);
  PyObject* target = obj;
  if (m->bind_owner) {
    target =
        (type != nullptr && type != Py_None) ? type : reinterpret_cast<PyObject*>(Py_TYPE(obj));
  } else if (obj == nullptr || obj == Py_None) {
    return Py_NewRef(self);
  }
  auto* b = PyObject_GC_New(BoundCachedMethod, &bound_method_type);
  if (b == nullptr) return nullptr;
  b->vectorcall = bm_call;
  b->method = Py_NewRef(self);
  b->self = Py_NewRef(target);
  PyObject_GC_Track(reinterpret_cast<PyObject*>(b));
  return reinterpret_cast<PyObject*>(b);
}

int cm_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* m = reinterpret_cast<CachedMethod*>(self);
  Py_VISIT(m->dict);
  Py_VISIT(m->func);
  return 0;
}

int cm_clear(PyObject* self) {
  auto* m = reinterpret_cast<CachedMethod*>(self);
  Py_CLEAR(m->dict);
  Py_CLEAR(m->func);
  return 0;
}

void cm_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  cm_clear(self);
  Py_TYPE(self)->tp_free(self);
}

PyGetSetDef cm_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

// Two types: only a method bound to its instance may take the interpreter's unbound call
// (Py_TPFLAGS_METHOD_DESCRIPTOR promises descr(obj, *args) == descr.__get__(obj)(*args)).
PyTypeObject make_cached_method_type(const char* name, bool method_descriptor) {
  PyTypeObject t{PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = name;
  t.tp_doc = "A cached method: binds calls and invalidate() to the instance (or class).";
  t.tp_basicsize = sizeof(CachedMethod);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
               (method_descriptor ? Py_TPFLAGS_METHOD_DESCRIPTOR : 0);
  t.tp_vectorcall_offset = offsetof(CachedMethod, vectorcall);
  t.tp_dictoffset = offsetof(CachedMethod, dict);
  t.tp_call = PyVectorcall_Call;
  t.tp_traverse = cm_traverse;
  t.tp_clear = cm_clear;
  t.tp_dealloc = cm_dealloc;
  t.tp_descr_get = cm_descr_get;
  t.tp_getset = cm_getset;
  return t;
}

PyTypeObject cached_method_type = make_cached_method_type("stratacache._core.CachedMethod", true);
PyTypeObject cached_owner_method_type =
    make_cached_method_type("stratacache._core.CachedOwnerMethod", false);

py::object make_cached_method(const py::object& func, bool bind_owner) {
  auto* type = bind_owner ? &cached_owner_method_type : &cached_method_type;
  auto* m = PyObject_GC_New(CachedMethod, type);
  if (m == nullptr) throw py::error_already_set();
  m->vectorcall = cm_call;
  m->dict = nullptr;
  m->func = Py_NewRef(func.ptr());
  m->bind_owner = bind_owner;
  PyObject_GC_Track(reinterpret_cast<PyObject*>(m));
  return py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(m));
}

}  // namespace

void bind_cached_method(py::module_& m) {
  for (PyTypeObject* t : {&cached_method_type, &cached_owner_method_type, &bound_method_type}) {
    if (PyType_Ready(t) < 0) throw py::error_already_set();
  }
  m.attr("CachedMethod") = py::handle(reinterpret_cast<PyObject*>(&cached_method_type));
  m.attr("CachedOwnerMethod") = py::handle(reinterpret_cast<PyObject*>(&cached_owner_method_type));
  m.attr("BoundCachedMethod") = py::handle(reinterpret_cast<PyObject*>(&bound_method_type));
  m.def("cached_method", &make_cached_method, py::arg("func"), py::arg("bind_owner"),
        "A CachedMethod calling `func` with the instance (bind_owner: the class) first.");
}

}  // namespace stratacache::bindings
