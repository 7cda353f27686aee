// stratacache._core: one registration call per area, nothing else.
#include <pybind11/pybind11.h>

#include "bind_registry.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "stratacache engine (C++). Users import stratacache, never this module.";
  stratacache::bindings::bind_errors(m);
  stratacache::bindings::bind_store(m);
  stratacache::bindings::bind_simulate(m);
  stratacache::bindings::bind_mrc(m);
  stratacache::bindings::bind_codec(m);
  stratacache::bindings::bind_predict(m);
  stratacache::bindings::bind_disk(m);
}
