// simulate(): trace replay through a policy.
#include <pybind11/stl.h>

#include "bind_registry.hpp"
#include "predict/simulator.hpp"

namespace py = pybind11;

namespace stratacache::bindings {

void bind_simulate(py::module_& m) {
  py::class_<predict::SimulationResult>(m, "SimulationResult")
      .def_readonly("hits", &predict::SimulationResult::hits)
      .def_readonly("misses", &predict::SimulationResult::misses)
      .def_property_readonly("requests", &predict::SimulationResult::requests)
      .def_property_readonly("hit_ratio", &predict::SimulationResult::hit_ratio)
      .def("__repr__", [](const predict::SimulationResult& r) {
        return "SimulationResult(hit_ratio=" + std::to_string(r.hit_ratio()) +
               ", hits=" + std::to_string(r.hits) + ", misses=" + std::to_string(r.misses) + ")";
      });
  m.def(
      "simulate",
      [](const std::string& path, const std::string& policy, std::uint64_t capacity) {
        // Seconds of pure C++ over a file; no Python object is touched until we return.
        py::gil_scoped_release unlocked;
        return predict::simulate_file(path, policy, capacity);
      },
      py::arg("trace_path"), py::arg("policy"), py::arg("capacity"));
}

}  // namespace stratacache::bindings
