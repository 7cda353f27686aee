// Store: the L1 engine over Python values. Every method keeps the GIL (each call is far below
// the ~1 us where releasing pays, and copying a Python value needs the GIL anyway).
#include <pybind11/stl.h>

#include <cmath>
#include <limits>

#include "bind_registry.hpp"
#include "common/error.hpp"
#include "dropped.hpp"
#include "py_store.hpp"
#include "store/policies.hpp"

namespace stratacache::bindings {
namespace {

using store::KeyView;

struct Key {
  KeyView view;
  std::uint64_t hash;
};

Key make_key(const std::string& prefix, const py::handle& key) {
  std::string_view body;
  if (!key_bytes(key.ptr(), body)) throw py::error_already_set();
  return {KeyView{prefix, body}, key_hash(prefix_seed(prefix), key.ptr())};
}

std::unique_ptr<StoreHandle> make_store_shim(std::uint64_t max_entries, std::uint64_t max_bytes,
                                             const std::string& policy, std::size_t shards,
                                             bool strict, double record,
                                             std::uint64_t record_capacity, double timing) {
  auto handle = std::make_unique<StoreHandle>();
  // timing == 0: no histograms. The constructor checks the rate.
  if (timing != 0) handle->latencies = std::make_unique<stats::Latencies>(timing);
  // record == 0: recording off. The recorder's constructor checks the rate and capacity.
  if (record != 0) {
    handle->recorder = std::make_unique<store::AccessRecorder>(record, record_capacity);
  }
  store::StoreConfig config{.max_entries = max_entries,
                            .max_bytes = max_bytes,
                            .shards = shards,
                            .strict = strict,
                            .recorder = handle->recorder.get(),
                            .latencies = handle->latencies.get()};
  handle->store = store::make_store<py::object>(policy, config);
  return handle;
}

py::object get_shim(StoreHandle& h, const std::string& prefix, const py::handle& key,
                    const py::object& default_) {
  const Key k = make_key(prefix, key);
  auto v = h.store->get(k.view, k.hash);
  return v ? std::move(*v) : default_;
}

py::object peek_shim(StoreHandle& h, const std::string& prefix, const py::handle& key,
                     const py::object& default_) {
  const Key k = make_key(prefix, key);
  auto v = h.store->peek(k.view, k.hash);
  return v ? std::move(*v) : default_;
}

const char* outcome_name(store::SetOutcome o) {
  switch (o) {
    case store::SetOutcome::kInserted:
      return "inserted";
    case store::SetOutcome::kReplaced:
      return "replaced";
    case store::SetOutcome::kRejected:
      return "rejected";
    case store::SetOutcome::kExpired:
      return "expired";
  }
  return "unknown";
}

const char* set_shim(StoreHandle& h, const std::string& prefix, const py::handle& key,
                     py::object value, std::uint64_t weight, const py::handle& ttl) {
  const Key k = make_key(prefix, key);
  Dropped buffer;
  auto& dropped = buffer.values();
  const auto outcome =
      h.store->set(k.view, k.hash, std::move(value), weight, ttl_shim(ttl), dropped);
  drop_values(dropped);
  return outcome_name(outcome);
}

bool delete_shim(StoreHandle& h, const std::string& prefix, const py::handle& key) {
  const Key k = make_key(prefix, key);
  Dropped buffer;
  auto& dropped = buffer.values();
  const bool removed = h.store->erase(k.view, k.hash, dropped);
  drop_values(dropped);
  return removed;
}

py::object ttl_of_shim(StoreHandle& h, const std::string& prefix, const py::handle& key) {
  const Key k = make_key(prefix, key);
  const store::TtlInfo info = h.store->ttl(k.view, k.hash);
  switch (info.state) {
    case store::TtlInfo::State::kMissing:
      return py::none();
    case store::TtlInfo::State::kNoExpiry:
      return py::float_(std::numeric_limits<double>::infinity());
    case store::TtlInfo::State::kExpires:
      break;
  }
  return py::float_(static_cast<double>(info.remaining) / 1e9);
}

bool touch_shim(StoreHandle& h, const std::string& prefix, const py::handle& key,
                const py::handle& ttl) {
  const Key k = make_key(prefix, key);
  Dropped buffer;
  auto& dropped = buffer.values();
  const bool found = h.store->touch(k.view, k.hash, ttl_shim(ttl), dropped);
  drop_values(dropped);
  return found;
}

py::list get_many_shim(StoreHandle& h, const std::string& prefix, const py::sequence& keys,
                       const py::object& default_) {
  const std::uint64_t seed = prefix_seed(prefix);
  const stats::NamespaceSlot ns = h.store->namespace_slot(prefix);
  py::list out(keys.size());
  std::size_t i = 0;
  for (const py::handle key : keys) {
    std::string_view body;
    if (!key_bytes(key.ptr(), body)) throw py::error_already_set();
    auto v = h.store->get(KeyView{prefix, body, ns}, key_hash(seed, key.ptr()));
    out[i++] = v ? std::move(*v) : default_;
  }
  return out;
}

std::size_t delete_many_shim(StoreHandle& h, const std::string& prefix, const py::sequence& keys) {
  const std::uint64_t seed = prefix_seed(prefix);
  Dropped buffer;
  auto& dropped = buffer.values();
  std::size_t n = 0;
  for (const py::handle key : keys) {
    std::string_view body;
    if (!key_bytes(key.ptr(), body)) throw py::error_already_set();
    n += h.store->erase(KeyView{prefix, body}, key_hash(seed, key.ptr()), dropped) ? 1 : 0;
  }
  drop_values(dropped);
  return n;
}

std::size_t clear_shim(StoreHandle& h, const std::string& prefix) {
  Dropped buffer;
  auto& dropped = buffer.values();
  const std::size_t n = h.store->erase_prefix(prefix, dropped);
  drop_values(dropped);
  return n;
}

std::size_t expire_shim(StoreHandle& h) {
  Dropped buffer;
  auto& dropped = buffer.values();
  const std::size_t n = h.store->expire(dropped);
  drop_values(dropped);
  return n;
}

py::dict stats_shim(const StoreHandle& h) {
  const store::StoreStats s = h.store->stats();
  py::dict d;
  d["hits"] = s.hits;
  d["misses"] = s.misses;
  d["sets"] = s.sets;
  d["rejected"] = s.rejected;
  d["evicted_size"] = s.evicted_size;
  d["evicted_expired"] = s.evicted_expired;
  d["evicted_explicit"] = s.evicted_explicit;
  d["entries"] = s.entries;
  d["bytes"] = s.bytes;
  return d;
}

}  // namespace

bool key_bytes_slow(PyObject* key, std::string_view& out) noexcept {
  if (!PyUnicode_Check(key)) {
    PyErr_Format(PyExc_TypeError, "cache key must be str, not %.100s", Py_TYPE(key)->tp_name);
    return false;
  }
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(key, &n);
  if (p == nullptr) {
    // A lone surrogate has no UTF-8 form: a ValueError naming where (not the key, which may
    // be private), instead of the codec's UnicodeEncodeError.
    Py_ssize_t at = -1;
    if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
#if PY_VERSION_HEX >= 0x030C0000
      PyObject* exc = PyErr_GetRaisedException();
#else
      PyObject *type = nullptr, *exc = nullptr, *tb = nullptr;
      PyErr_Fetch(&type, &exc, &tb);
      PyErr_NormalizeException(&type, &exc, &tb);
      Py_XDECREF(type);
      Py_XDECREF(tb);
#endif
      if (exc == nullptr || PyUnicodeEncodeError_GetStart(exc, &at) < 0) {
        PyErr_Clear();
        at = -1;
      }
      Py_XDECREF(exc);
      PyErr_Format(PyExc_ValueError,
                   "cache key must be valid text: a lone surrogate at index %zd has no UTF-8 "
                   "form (encode such keys first, e.g. as hex)",
                   at);
    }
    return false;
  }
  out = std::string_view(p, static_cast<std::size_t>(n));
  return true;
}

std::optional<Nanos> ttl_shim(const py::handle& ttl) {
  if (ttl.is_none()) return std::nullopt;
  if (PyBool_Check(ttl.ptr()) || !(PyLong_Check(ttl.ptr()) || PyFloat_Check(ttl.ptr()))) {
    throw py::type_error(std::string("ttl must be a number of seconds or None, not ") +
                         Py_TYPE(ttl.ptr())->tp_name);
  }
  const double seconds = ttl.cast<double>();
  // The range of python/stratacache/_options.py's MAX_TTL, so L1 and Redis accept the same TTLs.
  constexpr double kMaxTtlSeconds = 1e15;
  if (std::isnan(seconds) || seconds < 0 || (std::isfinite(seconds) && seconds > kMaxTtlSeconds)) {
    throw Error(ErrorCode::kInvalidTtl,
                "ttl must be >= 0 and <= 1e+15 seconds, or math.inf for no expiry, got " +
                    std::to_string(seconds));
  }
  const double ns = seconds * 1e9;
  // Beyond ~292 years a TTL is "never": the engine treats an overflowing deadline that way.
  if (ns >= static_cast<double>(std::numeric_limits<Nanos>::max())) {
    return std::numeric_limits<Nanos>::max();
  }
  return static_cast<Nanos>(ns);
}

void bind_store(py::module_& m) {
  py::class_<StoreHandle> cls(m, "Store");
  cls.def(py::init(&make_store_shim), py::arg("max_entries") = 0, py::arg("max_bytes") = 0,
          py::arg("policy") = std::string(store::kDefaultPolicy), py::arg("shards") = 0,
          py::arg("strict") = false, py::arg("record") = 0.0, py::arg("record_capacity") = 0,
          py::arg("timing") = 0.0)
      .def("get", &get_shim, py::arg("prefix"), py::arg("key"), py::arg("default"))
      .def("peek", &peek_shim, py::arg("prefix"), py::arg("key"), py::arg("default"))
      .def("set", &set_shim, py::arg("prefix"), py::arg("key"), py::arg("value"), py::arg("weight"),
           py::arg("ttl"))
      .def("delete", &delete_shim, py::arg("prefix"), py::arg("key"))
      .def(
          "contains",
          [](StoreHandle& h, const std::string& prefix, const py::handle& key) {
            const Key k = make_key(prefix, key);
            return h.store->contains(k.view, k.hash);
          },
          py::arg("prefix"), py::arg("key"))
      .def(
          "expect",
          [](StoreHandle& h, const std::string& prefix, const py::handle& key) {
            const Key k = make_key(prefix, key);
            return h.store->expect(k.view, k.hash);
          },
          py::arg("prefix"), py::arg("key"))
      .def("ttl", &ttl_of_shim, py::arg("prefix"), py::arg("key"))
      .def("touch", &touch_shim, py::arg("prefix"), py::arg("key"), py::arg("ttl"))
      .def("get_many", &get_many_shim, py::arg("prefix"), py::arg("keys"), py::arg("default"))
      .def("delete_many", &delete_many_shim, py::arg("prefix"), py::arg("keys"))
      .def("clear", &clear_shim, py::arg("prefix"))
      .def("expire", &expire_shim)
      .def(
          "keys", [](StoreHandle& h, const std::string& prefix) { return h.store->keys(prefix); },
          py::arg("prefix"))
      .def("stats", &stats_shim)
      .def("__len__", [](const StoreHandle& h) { return h.store->size(); })
      .def_property_readonly(
          "policy", [](const StoreHandle& h) { return std::string(h.store->policy_name()); })
      .def_property_readonly("shard_count",
                             [](const StoreHandle& h) { return h.store->shard_count(); })
      .def("overhead_bytes", [](const StoreHandle& h) { return h.store->overhead_bytes(); });
  bind_fast_store(m, cls);
  bind_recorder(cls);
  bind_stats(cls);
  m.def("policy_names", &store::policy_names);
  m.attr("DEFAULT_POLICY") = std::string(store::kDefaultPolicy);
}

}  // namespace stratacache::bindings
