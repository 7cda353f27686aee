// Trace replay: runs a key sequence through an eviction policy at a given capacity (every
// object weighs 1) and counts hits. Uses the same policy classes as the L1 store.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace stratacache::predict {

/// Outcome of one replay.
struct SimulationResult {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  double weighted_misses = 0;  ///< sum of the weights of the missed requests, if weights given
  [[nodiscard]] std::uint64_t requests() const noexcept { return hits + misses; }
  [[nodiscard]] double hit_ratio() const noexcept {
    return requests() == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(requests());
  }
};

/// Replays `keys` through `policy` ("lru", "tinylfu", "s3fifo", or "opt" for Belady's MIN with
/// bypass) holding at most `capacity` entries. Throws Error{kInvalidConfig} for an unknown
/// policy or a zero capacity.
[[nodiscard]] SimulationResult simulate(std::span<const std::int64_t> keys, std::string_view policy,
                                        std::uint64_t capacity);

/// `read_trace(path)` then `simulate`.
[[nodiscard]] SimulationResult simulate_file(const std::string& path, std::string_view policy,
                                             std::uint64_t capacity);

}  // namespace stratacache::predict
