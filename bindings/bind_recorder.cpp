// Store's access recording: counters, the trace export and the miss-ratio curve of what was
// recorded. The snapshot, the file and the curve are pure C++ and release the GIL; the
// recorder is lock-free, so other threads keep using the store meanwhile.
#include <pybind11/stl.h>

#include "common/error.hpp"
#include "predict/mrc.hpp"
#include "py_store.hpp"
#include "store/access_trace.hpp"

namespace stratacache::bindings {
namespace {

store::AccessRecorder& recorder_of(const StoreHandle& h) {
  if (!h.recorder) {
    throw Error(ErrorCode::kInvalidConfig,
                "recording is off: create the cache with record=<sample rate>");
  }
  return *h.recorder;
}

py::object recording_shim(const StoreHandle& h) {
  if (!h.recorder) return py::none();
  const store::RecorderStats s = h.recorder->stats();
  py::dict d;
  d["sample_rate"] = s.sample_rate;
  d["capacity"] = s.capacity;
  d["recorded"] = s.recorded;
  d["dropped"] = s.dropped;
  return std::move(d);
}

std::uint64_t export_trace_shim(const StoreHandle& h, const std::string& path) {
  store::AccessRecorder& r = recorder_of(h);
  // A copy of the ring and a gzip write: no Python object is touched until we return.
  py::gil_scoped_release unlocked;
  return store::write_trace(path, r.snapshot(), r.sample_rate());
}

// The records of tickets [from, cursor) and the cursor, for a consumer that follows the ring
// (AutoTTL's tuner): (cursor, times in ns, key hashes, namespace hashes, ops). Records already
// overwritten are skipped, as in `read_since`.
py::tuple read_records_shim(const StoreHandle& h, std::uint64_t from) {
  store::AccessRecorder& r = recorder_of(h);
  std::vector<store::AccessRecord> records;
  std::uint64_t cursor = 0;
  {
    // A copy out of the lock-free ring: no Python object is touched meanwhile.
    py::gil_scoped_release unlocked;
    cursor = r.read_since(from, records);
  }
  std::vector<std::int64_t> times;
  std::vector<std::uint64_t> keys;
  std::vector<std::uint32_t> namespaces;
  std::vector<std::uint8_t> ops;
  for (const store::AccessRecord& rec : records) {
    times.push_back(rec.time);
    keys.push_back(rec.key_hash);
    namespaces.push_back(rec.namespace_hash);
    ops.push_back(static_cast<std::uint8_t>(rec.op));
  }
  return py::make_tuple(cursor, times, keys, namespaces, ops);
}

// The curve of the recorded reads, taken as a trace of their own: every recorded key with all
// of its requests, replayed exactly (rate 1); `sizes` are in entries of that sample.
predict::MissRatioCurve recorded_curve_shim(const StoreHandle& h, const std::string& policy,
                                            std::vector<std::uint64_t> sizes) {
  store::AccessRecorder& r = recorder_of(h);
  predict::MrcOptions options;
  options.policy = policy;
  options.sample_rate = 1.0;
  options.sizes = std::move(sizes);
  // A snapshot and replays in pure C++ (worker threads too); no Python object is touched.
  py::gil_scoped_release unlocked;
  std::vector<std::int64_t> keys;
  for (const store::AccessRecord& rec : r.snapshot()) {
    if (rec.op == store::AccessOp::kGetHit || rec.op == store::AccessOp::kGetMiss) {
      keys.push_back(static_cast<std::int64_t>(rec.key_hash));
    }
  }
  return predict::miss_ratio_curve(keys, options);
}

}  // namespace

void bind_recorder(py::class_<StoreHandle>& cls) {
  cls.def("recording", &recording_shim)
      .def(
          "recorded",
          [](const StoreHandle& h, const std::string& prefix, const py::handle& key) {
            if (!h.recorder) return false;
            std::string_view body;
            if (!key_bytes(key.ptr(), body)) throw py::error_already_set();
            return h.recorder->sampled(key_hash(prefix_seed(prefix), key.ptr()));
          },
          py::arg("prefix"), py::arg("key"))
      .def("export_trace", &export_trace_shim, py::arg("path"))
      .def("read_records", &read_records_shim, py::arg("from_ticket"))
      .def_static(
          "namespace_hash", [](const std::string& prefix) { return store::namespace_hash(prefix); },
          py::arg("prefix"))
      .def("recorded_miss_ratio_curve", &recorded_curve_shim, py::arg("policy"), py::arg("sizes"));
}

}  // namespace stratacache::bindings
