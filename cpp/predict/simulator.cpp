#include "predict/simulator.hpp"

#include "common/error.hpp"
#include "predict/trace_reader.hpp"

namespace stratacache::predict {
SimulationResult simulate(std::span<const std::int64_t>, std::string_view, std::uint64_t) {
  throw Error(ErrorCode::kInvalidConfig, "not implemented yet");
}
SimulationResult simulate_file(const std::string& path, std::string_view policy,
                               std::uint64_t capacity) {
  const auto keys = read_trace(path);
  return simulate(keys, policy, capacity);
}
}  // namespace stratacache::predict
