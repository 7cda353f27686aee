// Layout of the vectorcall objects bound to one store and key prefix (fast_store.cpp), shared
// with the decorator's fast path (fast_cached_call.cpp), which binds to a getter's store.
#pragma once

#include <optional>
#include <string>

#include "py_store.hpp"

namespace stratacache::bindings {

struct FastCall {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* owner;  // the Store that owns `store`; kept alive
  PyObject* extra;  // getter: on_miss callable or None; setter: fallback or None
  PyStore* store;
  std::string* prefix;
  std::uint64_t seed;
  stats::NamespaceSlot ns;  // the prefix's counter slot, resolved once
  std::optional<Nanos> default_ttl;
};

/// The type of `Store.getter()` objects.
extern PyTypeObject getter_type;

/// Registers CachedCall (fast_cached_call.cpp).
void bind_cached_call(py::module_& m);

/// Registers CachedMethod and BoundCachedMethod (fast_cached_method.cpp).
void bind_cached_method(py::module_& m);

}  // namespace stratacache::bindings
