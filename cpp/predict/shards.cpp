#include "predict/shards.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <utility>

#include "common/error.hpp"
#include "predict/key_map.hpp"
#include "predict/stack_distance.hpp"

namespace stratacache::predict {
namespace {

// Positions kept for the regression data; larger ones are clipped (beyond any real cache).
constexpr std::size_t kMaxPosition = std::numeric_limits<std::uint32_t>::max();

// A bounded stack's timestamps per key it keeps, and at least this many (see StackDistances).
constexpr std::size_t kBoundedWindow = 8;
constexpr std::size_t kMinBoundedWindow = 4096;

// Seeds are spread over all 64 bits before they salt the hash (golden-ratio increment).
constexpr std::uint64_t kSeedSpread = 0x9e3779b97f4a7c15ULL;

// The estimated stack position of a sampled request whose key saw `distance` distinct sampled
// keys since its previous request.
std::size_t position_of(std::uint64_t distance, double rate) {
  // d sampled keys stand for d / R keys of the whole trace (an unbiased estimate), plus the key.
  const double position = static_cast<double>(distance) / rate + 1.0;
  // Round rather than truncate: R = T / P is a few ulps off the requested rate.
  // floor(x + 0.5) is round(x) for x >= 0 (d / R + 1 is far below 2^52), without a libm call.
  return std::max<std::size_t>(1, static_cast<std::size_t>(position + 0.5));
}

// Adds `weight` to bucket p of `at`, growing it geometrically.
void add_at(std::vector<double>& at, std::size_t p, double weight) {
  if (p >= at.size()) at.resize(std::max(p + 1, 2 * at.size()), 0.0);
  at[p] += weight;
}

// The regression data of a fixed-rate pass: each key's sampled requests (by dense id), then
// each reuse's position weighted by its key's requests.
void add_key_requests(ReuseHistogram& h, const std::vector<std::uint32_t>& requests_of,
                      const std::vector<std::pair<std::uint32_t, std::uint32_t>>& reuses) {
  h.sampled_keys = static_cast<double>(requests_of.size());
  for (const std::uint32_t n : requests_of) {
    h.key_requests_squared += static_cast<double>(n) * static_cast<double>(n);
  }
  h.key_requests_at.assign(h.hits_at.size(), 0.0);
  for (const auto& [id, p] : reuses) h.key_requests_at[p] += requests_of[id];
}

// Prefix sums: out[p] = at[0] + ... + at[p].
std::vector<double> cumulative(const std::vector<double>& at) {
  std::vector<double> out(at.size(), 0.0);
  double sum = 0;
  for (std::size_t p = 0; p < at.size(); ++p) out[p] = sum += at[p];
  return out;
}

// cum[min(size, last)], or 0 for an empty histogram.
double at_size(const std::vector<double>& cum, std::uint64_t size) {
  if (cum.empty()) return 0.0;
  return cum[static_cast<std::size_t>(std::min<std::uint64_t>(size, cum.size() - 1))];
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
  const bool gather = r < 1.0;             // the regression data; an exact pass needs none
  std::vector<std::uint32_t> requests_of;  // by dense key id
  std::vector<std::pair<std::uint32_t, std::uint32_t>> reuses;  // (key id, position)
  for (const std::int64_t key : keys) {
    const std::uint64_t hash = KeyMap::hash_of(key);
    if (!sampler.sampled(hash)) continue;
    ++h.sampled_requests;
    const std::uint64_t d = stack.access(key, hash);
    const std::uint32_t id = stack.last_id();
    if (gather) {
      if (id == requests_of.size()) requests_of.push_back(0);
      ++requests_of[id];
    }
    if (d == StackDistances::kCold) continue;
    const std::size_t p = position_of(d, r);
    add_at(h.hits_at, p, 1.0 / r);
    if (gather) reuses.emplace_back(id, static_cast<std::uint32_t>(std::min(p, kMaxPosition)));
  }
  h.total = static_cast<double>(h.sampled_requests) / r;
  h.distinct_keys = static_cast<double>(stack.size()) / r;
  if (gather) add_key_requests(h, requests_of, reuses);
  return h;
}

std::vector<ReuseHistogram> shards_nested(std::span<const std::int64_t> keys,
                                          std::span<const NestedTier> tiers, std::uint64_t seed,
                                          std::uint64_t requests, double population_keys) {
  struct Tier {
    SpatialSampler sampler;
    StackDistances stack;
    std::size_t depth;  // keys kept (0: all)
    std::vector<std::uint32_t> requests_of;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> reuses;
  };
  std::vector<Tier> state;
  std::vector<ReuseHistogram> out(tiers.size());
  for (const NestedTier& t : tiers) {
    const SpatialSampler sampler(t.rate, seed);
    const double bound = std::ceil(static_cast<double>(t.max_size) * sampler.rate()) + 1.0;
    const auto depth = t.max_size == 0 ? 0 : static_cast<std::size_t>(bound);
    // A bounded stack compacts every (window - depth) requests: a wide window makes that rare.
    StackDistances stack =
        depth == 0 ? StackDistances(1024)
                   : StackDistances(depth + 1, std::max<std::size_t>(kBoundedWindow * (depth + 1),
                                                                     kMinBoundedWindow));
    state.push_back({sampler, std::move(stack), depth, {}, {}});
  }
  const SpatialSampler value_of(1.0, seed);  // the same salt: one sampling value per request
  for (const std::int64_t key : keys) {
    const std::uint64_t hash = KeyMap::hash_of(key);
    const std::uint64_t value = value_of.value(hash);
    for (std::size_t i = 0; i < state.size(); ++i) {
      Tier& t = state[i];
      if (value >= t.sampler.threshold()) continue;
      ReuseHistogram& h = out[i];
      ++h.sampled_requests;
      const std::uint64_t d = t.stack.access(key, hash);
      if (t.depth == 0) {
        const std::uint32_t id = t.stack.last_id();
        if (id == t.requests_of.size()) t.requests_of.push_back(0);
        ++t.requests_of[id];
      } else if (t.stack.size() > t.depth) {
        t.stack.forget_oldest();
      }
      if (d == StackDistances::kCold) continue;
      const std::size_t p = position_of(d, t.sampler.rate());
      add_at(h.hits_at, p, 1.0 / t.sampler.rate());
      if (t.depth == 0) {
        t.reuses.emplace_back(t.stack.last_id(),
                              static_cast<std::uint32_t>(std::min(p, kMaxPosition)));
      }
    }
  }
  for (std::size_t i = 0; i < state.size(); ++i) {
    ReuseHistogram& h = out[i];
    const Tier& t = state[i];
    h.requests = requests;
    h.rate = t.sampler.rate();
    h.total = static_cast<double>(h.sampled_requests) / h.rate;
    h.distinct_keys = static_cast<double>(t.requests_of.size()) / h.rate;  // unbounded only
    if (t.depth == 0) add_key_requests(h, t.requests_of, t.reuses);
    h.population_keys = population_keys;
  }
  return out;
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
      add_at(h.hits_at, position_of(d, r), 1.0 / r);
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

double regression_misses(double misses, double key_misses, const SampleTotals& t) {
  const double det = t.requests_squared * t.keys - t.requests * t.requests;
  if (!(det > 1e-9 * t.requests_squared * t.keys)) {
    return t.requests > 0 ? t.population_requests * misses / t.requests : 0.0;
  }
  const double b1 = (key_misses * t.keys - t.requests * misses) / det;
  const double b2 = (t.requests_squared * misses - t.requests * key_misses) / det;
  return b1 * t.population_requests + b2 * t.population_keys;
}

std::vector<double> lru_miss_ratios(const ReuseHistogram& histogram,
                                    std::span<const std::uint64_t> sizes, bool adjust) {
  const std::vector<double> hits = cumulative(histogram.hits_at);
  const bool regress = adjust && histogram.rate < 1.0 && histogram.population_keys > 0 &&
                       histogram.sampled_keys > 0 &&
                       histogram.key_requests_at.size() == histogram.hits_at.size();
  const std::vector<double> key_hits = regress ? cumulative(histogram.key_requests_at) : hits;
  const SampleTotals totals{.requests = static_cast<double>(histogram.sampled_requests),
                            .keys = histogram.sampled_keys,
                            .requests_squared = histogram.key_requests_squared,
                            .population_requests = static_cast<double>(histogram.requests),
                            .population_keys = histogram.population_keys};
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
    double ratio = 0;
    if (regress) {
      // In the sample's own units: its hits were counted 1 / R each.
      const double misses = totals.requests - at_size(hits, size) * histogram.rate;
      const double key_misses = totals.requests_squared - at_size(key_hits, size);
      ratio = regression_misses(misses, key_misses, totals) / requests;
    } else {
      ratio = 1.0 - (at_size(hits, size) + shortfall) / requests;
    }
    out.push_back(std::clamp(ratio, 0.0, 1.0));
  }
  return out;
}

}  // namespace stratacache::predict
