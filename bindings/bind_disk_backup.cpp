// DiskStore's backup calls (cpp/disk/disk_backup.cpp): batched scans that hand back a cursor
// and a batched put with absolute expiries. GIL released around the LMDB work, as bind_disk.
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "disk/disk_store.hpp"

namespace py = pybind11;

namespace stratacache::bindings {
namespace {

using disk::DiskStore;

// Entries as (key, envelope, expiry ms, sequence) tuples of bytes and ints.
py::list entries_to_python(const std::vector<disk::Entry>& entries) {
  py::list out;
  for (const auto& e : entries) {
    out.append(py::make_tuple(py::bytes(e.key), py::bytes(e.envelope), e.expiry, e.seq));
  }
  return out;
}

py::tuple scan_shim(DiskStore& s, const std::string& prefix, const std::string& after,
                    std::size_t limit, std::size_t max_bytes) {
  disk::ScanBatch batch;
  {
    py::gil_scoped_release unlocked;  // a cursor walk; the arguments are C++ copies
    batch = s.scan(prefix, after, limit, max_bytes);
  }
  return py::make_tuple(entries_to_python(batch.entries), py::bytes(batch.next_key), batch.done);
}

// Changes as (kind, key, envelope, expiry ms, sequence) tuples: kind "w", "k" or "p".
py::tuple changes_since_shim(DiskStore& s, std::uint64_t after_seq, std::size_t limit,
                             std::size_t max_bytes) {
  disk::ScanBatch batch;
  {
    py::gil_scoped_release unlocked;  // cursor walks over the queue and the removal log
    batch = s.changes_since(after_seq, limit, max_bytes);
  }
  py::list changes;
  for (const auto& e : batch.entries) {
    changes.append(py::make_tuple(py::str(std::string(1, e.kind)), py::bytes(e.key),
                                  py::bytes(e.envelope), e.expiry, e.seq));
  }
  return py::make_tuple(changes, batch.next_seq, batch.done, batch.log_floor);
}

std::size_t put_many_shim(DiskStore& s, const py::list& items) {
  std::vector<disk::Put> puts;
  puts.reserve(items.size());
  for (const auto& item : items) {
    auto t = item.cast<py::tuple>();
    if (t.size() != 3) throw py::value_error("put_many takes (key, envelope, expiry ms) tuples");
    puts.push_back(disk::Put{t[0].cast<std::string>(), t[1].cast<std::string>(),
                             t[2].cast<disk::WallMillis>()});
  }
  py::gil_scoped_release unlocked;  // one write transaction: the host's writer lock, an fsync
  return s.put_many(puts);
}

}  // namespace

void bind_disk_backup(py::class_<DiskStore>& cls) {
  cls.def("scan", &scan_shim, py::arg("prefix"), py::arg("after"), py::arg("limit"),
          py::arg("max_bytes"))
      .def("changes_since", &changes_since_shim, py::arg("after_seq"), py::arg("limit"),
           py::arg("max_bytes"))
      .def("sequence", &DiskStore::sequence, py::call_guard<py::gil_scoped_release>())
      .def("put_many", &put_many_shim, py::arg("items"));
}

}  // namespace stratacache::bindings
