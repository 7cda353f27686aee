// Buffers for the values the engine hands back (replaced, evicted, deleted), which the bindings
// drop after the shard lock is released, with the GIL held. A set on a full cache evicts on
// every call, so buffers are reused per thread instead of allocated per call; a __del__ that
// re-enters the cache while one is being cleared simply takes another.
#pragma once

#include <pybind11/pybind11.h>

#include <utility>
#include <vector>

namespace stratacache::bindings {

class Dropped {
 public:
  Dropped() {
    auto& pool = free_buffers();
    if (!pool.empty()) {
      buf_ = std::move(pool.back());
      pool.pop_back();
    }
  }
  ~Dropped() {
    buf_.clear();  // decrefs: may run Python code, which may take another buffer
    auto& pool = free_buffers();
    if (pool.size() < kPoolSize) pool.push_back(std::move(buf_));
  }
  Dropped(const Dropped&) = delete;
  Dropped& operator=(const Dropped&) = delete;

  std::vector<pybind11::object>& values() noexcept { return buf_; }

 private:
  static constexpr std::size_t kPoolSize = 8;
  static std::vector<std::vector<pybind11::object>>& free_buffers() {
    // Per thread: every binding call holds the GIL, but buffers must not cross threads anyway.
    thread_local std::vector<std::vector<pybind11::object>> pool;
    return pool;
  }
  std::vector<pybind11::object> buf_;
};

}  // namespace stratacache::bindings
