// Registration functions, one per area, called from module.cpp.
#pragma once

#include <pybind11/pybind11.h>

namespace stratacache::bindings {
void bind_errors(pybind11::module_& m);
void bind_store(pybind11::module_& m);
void bind_simulate(pybind11::module_& m);
void bind_mrc(pybind11::module_& m);
void bind_codec(pybind11::module_& m);
void bind_predict(pybind11::module_& m);
void bind_disk(pybind11::module_& m);
}  // namespace stratacache::bindings
