#include "predict/shards.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <utility>

#include "common/error.hpp"
#include "predict/key_map.hpp"
#include "predict/stack_distance.hpp"

namespace stratacache::predict {
namespace {

// Seeds are spread over all 64 bits before they salt the hash (golden-ratio increment).
constexpr std::uint64_t kSeedSpread = 0x9e3779b97f4a7c15ULL;

// Adds `weight` requests at the estimated stack position of a sampled request whose key saw
// `distance` distinct sampled keys since its previous request.
void count_reuse(ReuseHistogram& h, std::uint64_t distance, double rate, double weight) {
  // d sampled keys stand for d / R keys of the whole trace (an unbiased estimate), plus the key.
  const double position = static_cast<double>(distance) / rate + 1.0;
  // Round rather than truncate: R = T / P is a few ulps off the requested rate.
  const auto p = static_cast<std::size_t>(std::max(1.0, std::round(position)));
  if (p >= h.hits_at.size()) h.hits_at.resize(std::max(p + 1, 2 * h.hits_at.size()), 0.0);
  h.hits_at[p] += weight;
}

}  // namespace

SpatialSampler::SpatialSampler(double rate, std::uint64_t seed)
    : threshold_(0), salt_(seed * kSeedSpread) {
  const double t = std::round(rate * static_cast<double>(kModulus));
  if (!(rate <= 1.0) || !(t >= 1.0)) {
    throw Error(ErrorCode::kInvalidConfig,
                "sample_rate must be in [2^-24, 1], got " + std::to_string(rate));
  }
  threshold_ = static_cast<std::uint64_t>(t);
}

ReuseHistogram shards_fixed_rate(std::span<const std::int64_t> keys, double rate,
                                 std::uint64_t seed) {
  const SpatialSampler sampler(rate, seed);
  const double r = sampler.rate();
  ReuseHistogram h;
  h.requests = keys.size();
  h.rate = r;
  StackDistances stack;
  for (const std::int64_t key : keys) {
    const std::uint64_t hash = KeyMap::hash_of(key);
    if (!sampler.sampled(hash)) continue;
    ++h.sampled_requests;
    const std::uint64_t d = stack.access(key, hash);
    if (d != StackDistances::kCold) count_reuse(h, d, r, 1.0 / r);
  }
  h.total = static_cast<double>(h.sampled_requests) / r;
  h.distinct_keys = static_cast<double>(stack.size()) / r;
  return h;
}

ReuseHistogram shards_fixed_size(std::span<const std::int64_t> keys, std::uint64_t max_keys,
                                 double initial_rate, std::uint64_t seed) {
  if (max_keys == 0) throw Error(ErrorCode::kInvalidConfig, "max_keys must be at least 1");
  SpatialSampler sampler(initial_rate, seed);
  ReuseHistogram h;
  h.requests = keys.size();
  StackDistances stack(static_cast<std::size_t>(std::min<std::uint64_t>(max_keys, 1 << 20)));
  // Sampled keys by sampling value, largest on top: the next to leave when T drops.
  std::priority_queue<std::pair<std::uint64_t, std::int64_t>> by_value;
  for (const std::int64_t key : keys) {
    const std::uint64_t hash = KeyMap::hash_of(key);
    const std::uint64_t value = sampler.value(hash);
    if (value >= sampler.threshold()) continue;
    ++h.sampled_requests;
    const double r = sampler.rate();
    h.total += 1.0 / r;
    const std::uint64_t d = stack.access(key, hash);
    if (d != StackDistances::kCold) {
      count_reuse(h, d, r, 1.0 / r);
      continue;
    }
    by_value.emplace(value, key);
    if (stack.size() <= max_keys) continue;
    const std::uint64_t t = by_value.top().first;
    while (!by_value.empty() && by_value.top().first >= t) {
      stack.forget(by_value.top().second, KeyMap::hash_of(by_value.top().second));
      by_value.pop();
    }
    sampler.lower(t);
  }
  h.rate = sampler.rate();
  h.distinct_keys = h.rate > 0 ? static_cast<double>(stack.size()) / h.rate : 0.0;
  return h;
}

std::vector<double> lru_miss_ratios(const ReuseHistogram& histogram,
                                    std::span<const std::uint64_t> sizes, bool adjust) {
  std::vector<double> cumulative(histogram.hits_at.size(), 0.0);
  double sum = 0;
  for (std::size_t p = 0; p < cumulative.size(); ++p) cumulative[p] = sum += histogram.hits_at[p];
  // SHARDS_adj: requests the sample should have had but did not count as hits everywhere.
  const double requests = adjust ? static_cast<double>(histogram.requests) : histogram.total;
  const double shortfall = adjust ? requests - histogram.total : 0.0;
  std::vector<double> out;
  out.reserve(sizes.size());
  for (const std::uint64_t size : sizes) {
    if (histogram.sampled_requests == 0 || requests <= 0) {
      out.push_back(1.0);  // nothing sampled: no evidence of any hit
      continue;
    }
    const double hits =
        (cumulative.empty() ? 0.0
                            : cumulative[static_cast<std::size_t>(
                                  std::min<std::uint64_t>(size, cumulative.size() - 1))]) +
        shortfall;
    out.push_back(std::clamp(1.0 - hits / requests, 0.0, 1.0));
  }
  return out;
}

}  // namespace stratacache::predict
