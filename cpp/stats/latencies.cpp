#include "stats/latencies.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include "common/error.hpp"

namespace stratacache::stats {
namespace {

template <class E, std::size_t N>
std::optional<E> named(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

std::uint32_t period_of(double rate) {
  if (!(rate > 0.0 && rate <= 1.0)) {
    throw Error(ErrorCode::kInvalidConfig,
                "timing rate must be > 0 and <= 1, got " + std::to_string(rate));
  }
  const double period = std::round(1.0 / rate);
  return period >= 4e9 ? 4'000'000'000U : static_cast<std::uint32_t>(period);
}

}  // namespace

std::optional<Tier> tier_named(std::string_view name) noexcept {
  return named<Tier>(kTierNames, name);
}

std::optional<Op> op_named(std::string_view name) noexcept { return named<Op>(kOpNames, name); }

Latencies::Latencies(double rate)
    : period_(period_of(rate)),
      grid_(std::make_unique<std::array<LatencyHistogram, kTiers * kOps>>()) {}

std::vector<LatencySummary> Latencies::summarize(const std::vector<std::uint64_t>& bounds_ns,
                                                 const std::vector<double>& quantiles) const {
  std::vector<LatencySummary> out;
  for (std::size_t t = 0; t < kTiers; ++t) {
    for (std::size_t o = 0; o < kOps; ++o) {
      const auto tier = static_cast<Tier>(t);
      const auto op = static_cast<Op>(o);
      const HistogramSnapshot snap = snapshot(tier, op);
      if (snap.count == 0) continue;
      LatencySummary s;
      s.tier = tier;
      s.op = op;
      s.count = snap.count;
      s.sum_ns = snap.sum_ns;
      for (const std::uint64_t b : bounds_ns) s.below.push_back(snap.count_below(b));
      for (const double q : quantiles) s.quantiles.push_back(snap.quantile(q));
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::uint64_t Latencies::now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace stratacache::stats
