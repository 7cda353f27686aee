#include "predict/simulator.hpp"

#include <algorithm>
#include <string>

#include "common/error.hpp"
#include "predict/belady.hpp"
#include "predict/replay.hpp"
#include "predict/trace_reader.hpp"
#include "store/policies.hpp"

namespace stratacache::predict {

SimulationResult simulate(std::span<const std::int64_t> keys, std::string_view policy,
                          std::uint64_t capacity) {
  if (capacity == 0) throw Error(ErrorCode::kInvalidConfig, "capacity must be at least 1");
  if (policy == kOptPolicy) return simulate_opt(keys, capacity);
  const auto names = store::policy_names();
  if (std::find(names.begin(), names.end(), policy) == names.end()) {
    std::string known;
    for (const auto& n : names) known += n + ", ";
    throw Error(ErrorCode::kInvalidConfig, "unknown policy '" + std::string(policy) + "' (known: " +
                                               known + std::string(kOptPolicy) + ")");
  }
  return store::with_policy(policy, [&](auto tag) {
    typename decltype(tag)::type p(capacity);
    return replay(keys, p, capacity);
  });
}

SimulationResult simulate_file(const std::string& path, std::string_view policy,
                               std::uint64_t capacity) {
  const auto keys = read_trace(path);
  return simulate(keys, policy, capacity);
}

}  // namespace stratacache::predict
