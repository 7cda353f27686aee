// miss_ratio_curve(): exact or sampled miss-ratio curves of a trace.
#include <pybind11/stl.h>

#include "bind_registry.hpp"
#include "predict/mrc.hpp"

namespace py = pybind11;

namespace stratacache::bindings {
namespace {

// Gathers the keyword arguments into MrcOptions.
predict::MissRatioCurve miss_ratio_curve_shim(const std::string& path, const std::string& policy,
                                              double sample_rate, std::vector<std::uint64_t> sizes,
                                              std::uint64_t min_entries, bool adjust,
                                              std::uint64_t seed) {
  predict::MrcOptions options;
  options.policy = policy;
  options.sample_rate = sample_rate;
  options.sizes = std::move(sizes);
  options.min_entries = min_entries;
  options.adjust = adjust;
  options.seed = seed;
  // Seconds of pure C++ (worker threads too); no Python object is touched until we return.
  py::gil_scoped_release unlocked;
  return predict::miss_ratio_curve_file(path, options);
}

}  // namespace

void bind_mrc(py::module_& m) {
  using predict::MissRatioCurve;
  const predict::MrcOptions defaults;
  py::class_<MissRatioCurve>(m, "MissRatioCurve")
      .def_readonly("policy", &MissRatioCurve::policy)
      .def_readonly("sample_rate", &MissRatioCurve::sample_rate)
      .def_readonly("requests", &MissRatioCurve::requests)
      .def_readonly("sampled_requests", &MissRatioCurve::sampled_requests)
      .def_readonly("distinct_keys", &MissRatioCurve::distinct_keys)
      .def_readonly("sizes", &MissRatioCurve::sizes)
      .def_readonly("miss_ratios", &MissRatioCurve::miss_ratios);
  m.def("miss_ratio_curve", &miss_ratio_curve_shim, py::arg("trace_path"), py::arg("policy"),
        py::arg("sample_rate"), py::arg("sizes"), py::arg("min_entries") = defaults.min_entries,
        py::arg("adjust") = defaults.adjust, py::arg("seed") = defaults.seed);
}

}  // namespace stratacache::bindings
