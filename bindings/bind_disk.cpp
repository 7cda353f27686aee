// DiskStore (cpp/disk): the disk tier's store. Keys and envelopes cross as bytes.
// GIL: every call that touches the store releases it around the LMDB work: reads page in from
// disk, writes take the host-wide writer lock and may fsync, so each can block for far longer
// than the switch costs, and none touches a Python object while released.
#include <pybind11/stl.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "bind_registry.hpp"
#include "common/error.hpp"
#include "disk/disk_store.hpp"

namespace py = pybind11;

namespace stratacache::bindings {
namespace {

using disk::DiskStore;

disk::Durability durability_of(const std::string& name) {
  if (name == "none") return disk::Durability::kNone;
  if (name == "flush") return disk::Durability::kFlush;
  if (name == "sync") return disk::Durability::kSync;
  throw Error(ErrorCode::kInvalidConfig, R"(durability must be "none", "flush" or "sync")");
}

py::object hit_to_python(std::optional<disk::Hit> hit) {
  if (!hit) return py::none();
  return py::make_tuple(py::bytes(hit->envelope), hit->ttl_left);
}

// Above this size an envelope is copied once, from the mapped page into its bytes object (the
// GIL taken for it), instead of twice through a std::string: at 1 MB a copy is most of a hit.
constexpr std::size_t kDirectCopy = 64 << 10;

py::object get_shim(DiskStore& s, const std::string& key) {
  std::optional<double> left;
  std::string small;
  py::object big;
  {
    py::gil_scoped_release unlocked;  // the key is a C++ copy; the read may page in
    left = s.get_view(key, [&](std::string_view envelope) {
      if (envelope.size() < kDirectCopy) {
        small.assign(envelope);
        return;
      }
      py::gil_scoped_acquire locked;  // the read snapshot stays pinned meanwhile: no lock held
      big = py::bytes(envelope.data(), envelope.size());
    });
  }
  if (!left) return py::none();
  return py::make_tuple(big ? std::move(big) : py::bytes(small), *left);
}

py::list get_many_shim(DiskStore& s, const std::vector<std::string>& keys) {
  std::vector<std::optional<disk::Hit>> hits;
  {
    py::gil_scoped_release unlocked;  // keys are C++ copies
    hits = s.get_many(keys);
  }
  py::list out;
  for (auto& hit : hits) out.append(hit_to_python(std::move(hit)));
  return out;
}

bool set_shim(DiskStore& s, const std::string& key, const py::bytes& envelope, double ttl) {
  std::string_view data = envelope;  // immutable bytes, kept alive by the caller's reference
  py::gil_scoped_release unlocked;   // the write takes the host's writer lock and may fsync
  return s.set(key, data, ttl);
}

py::dict stats_shim(DiskStore& s) {
  disk::Stats st;
  {
    py::gil_scoped_release unlocked;  // reads the store's totals
    st = s.stats();
  }
  py::dict d;
  d["hits"] = st.hits;
  d["misses"] = st.misses;
  d["sets"] = st.sets;
  d["deletes"] = st.deletes;
  d["evictions"] = st.evictions;
  d["expired"] = st.expired;
  d["corrupt"] = st.corrupt;
  d["rejected"] = st.rejected;
  d["bytes"] = st.bytes;
  d["entries"] = st.entries;
  d["max_bytes"] = st.max_bytes;
  return d;
}

}  // namespace

// The backup calls, in bind_disk_backup.cpp.
void bind_disk_backup(py::class_<DiskStore>& cls);

void bind_disk(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  py::class_<DiskStore> cls(m, "DiskStore");
  cls.def(py::init([](std::string path, std::uint64_t max_bytes, const std::string& durability) {
            disk::Options o{std::move(path), max_bytes, durability_of(durability), {}};
            py::gil_scoped_release unlocked;  // opening maps the file and may recover locks
            return std::make_unique<DiskStore>(std::move(o));
          }),
          py::arg("path"), py::arg("max_bytes"), py::arg("durability"))
      .def("get", &get_shim, py::arg("key"))
      .def("get_many", &get_many_shim, py::arg("keys"))
      .def("set", &set_shim, py::arg("key"), py::arg("envelope"), py::arg("ttl"))
      .def("delete", &DiskStore::remove, py::arg("keys"), Release())
      .def("delete_prefix", &DiskStore::remove_prefix, py::arg("prefix"), Release())
      .def(
          "keys",
          [](DiskStore& s, const std::string& prefix, std::size_t limit) {
            std::vector<std::string> keys;
            {
              py::gil_scoped_release unlocked;  // a cursor walk over the store
              keys = s.keys(prefix, limit);
            }
            py::list out;
            for (const auto& k : keys) out.append(py::bytes(k));
            return out;
          },
          py::arg("prefix"), py::arg("limit"))
      .def("ttl", &DiskStore::ttl, py::arg("key"), Release())
      .def("touch", &DiskStore::touch, py::arg("key"), py::arg("ttl"), Release())
      .def("purge_expired", &DiskStore::purge_expired, py::arg("limit"), Release())
      .def("count_corrupt", &DiskStore::count_corrupt)
      .def("stats", &stats_shim)
      .def("abandon", &DiskStore::abandon)
      .def_property_readonly("path", &DiskStore::path);
  bind_disk_backup(cls);
}

}  // namespace stratacache::bindings
