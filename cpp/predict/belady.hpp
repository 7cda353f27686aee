// Belady's optimal offline policy: the upper bound every online policy is measured against.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "predict/simulator.hpp"

namespace stratacache::predict {

/// Name `simulate` knows Belady's policy by.
inline constexpr std::string_view kOptPolicy = "opt";

/// For each request, the index of the next request of the same key, or `keys.size()` if there
/// is none. Throws Error{kInvalidConfig} for traces of 2^32 - 1 requests or more.
[[nodiscard]] std::vector<std::uint32_t> next_uses(std::span<const std::int64_t> keys);

/// Belady's MIN with bypass [1]: knowing the future, on a miss in a full cache the key whose
/// next use is farthest leaves, which may be the key just requested (it is then not admitted).
/// Keys never requested again are never admitted. Every object weighs 1. With `miss_weights`
/// (one per request), their sum over the misses is `weighted_misses`.
///
/// [1] L. A. Belady, "A study of replacement algorithms for a virtual-storage computer",
///     IBM Systems Journal 1966.
[[nodiscard]] SimulationResult simulate_opt(std::span<const std::int64_t> keys,
                                            std::uint64_t capacity,
                                            std::span<const double> miss_weights = {});

}  // namespace stratacache::predict
