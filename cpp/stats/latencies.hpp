// Latencies: one LatencyHistogram per (tier, operation), and the sampling that decides which
// calls are timed. The L1 store times its own calls; the Python tiers (Redis, disk) time
// theirs and record them here through the bindings, so every tier reports in one place.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "stats/latency_histogram.hpp"

namespace stratacache::stats {

enum class Tier : std::uint8_t { kL1, kRedis, kDisk };
enum class Op : std::uint8_t { kGet, kGetMany, kSet, kSetMany, kDelete };

inline constexpr std::size_t kTiers = 3;
inline constexpr std::size_t kOps = 5;
inline constexpr std::array<std::string_view, kTiers> kTierNames{"l1", "redis", "disk"};
inline constexpr std::array<std::string_view, kOps> kOpNames{"get", "get_many", "set", "set_many",
                                                             "delete"};

/// The tier named `name`, or nullopt.
[[nodiscard]] std::optional<Tier> tier_named(std::string_view name) noexcept;
/// The operation named `name`, or nullopt.
[[nodiscard]] std::optional<Op> op_named(std::string_view name) noexcept;

/// What exporters need of one non-empty histogram.
struct LatencySummary {
  Tier tier = Tier::kL1;
  Op op = Op::kGet;
  std::uint64_t count = 0;
  std::uint64_t sum_ns = 0;
  std::vector<std::uint64_t> below;      ///< values below each requested bound
  std::vector<std::uint64_t> quantiles;  ///< ns at each requested quantile (bucket upper bound)
};

/// Histograms by tier and operation. Thread-safe; recording is wait-free.
class Latencies {
 public:
  /// Times a fraction `rate` (0 < rate <= 1) of calls: every round(1 / rate)-th call of each
  /// thread. Throws Error{kInvalidConfig} for a rate outside (0, 1].
  explicit Latencies(double rate);

  /// True when the calling thread's next call should be timed.
  [[nodiscard]] bool should_time() const noexcept {
    if (period_ == 1) return true;
    thread_local std::uint32_t countdown = 0;
    if (countdown == 0) {
      countdown = period_ - 1;
      return true;
    }
    --countdown;
    return false;
  }

  void record(Tier tier, Op op, std::uint64_t ns) noexcept { at(tier, op).record(ns); }
  [[nodiscard]] HistogramSnapshot snapshot(Tier tier, Op op) const {
    return at(tier, op).snapshot();
  }
  /// One summary per histogram that holds values, in tier then operation order.
  [[nodiscard]] std::vector<LatencySummary> summarize(const std::vector<std::uint64_t>& bounds_ns,
                                                      const std::vector<double>& quantiles) const;
  [[nodiscard]] double rate() const noexcept { return 1.0 / static_cast<double>(period_); }

  /// Nanoseconds on the steady clock (the time base of every recorded value).
  [[nodiscard]] static std::uint64_t now_ns() noexcept;

 private:
  [[nodiscard]] LatencyHistogram& at(Tier tier, Op op) const noexcept {
    return (*grid_)[static_cast<std::size_t>(tier) * kOps + static_cast<std::size_t>(op)];
  }
  std::uint32_t period_;
  // On the heap: some hundred kB, allocated only for a cache that asks for timing.
  std::unique_ptr<std::array<LatencyHistogram, kTiers * kOps>> grid_;
};

}  // namespace stratacache::stats
