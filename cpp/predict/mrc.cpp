#include "predict/mrc.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <thread>

#include "common/error.hpp"
#include "predict/belady.hpp"
#include "predict/key_map.hpp"
#include "predict/miniature.hpp"
#include "predict/shards.hpp"
#include "predict/trace_reader.hpp"
#include "store/lru_policy.hpp"
#include "store/policies.hpp"

namespace stratacache::predict {
namespace {

constexpr std::string_view kLru = store::LruPolicy::kName;

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorCode::kInvalidConfig, message);
}

void check(const MrcOptions& o) {
  auto names = store::policy_names();
  names.emplace_back(kOptPolicy);
  if (std::find(names.begin(), names.end(), o.policy) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    invalid("unknown policy '" + o.policy + "' (known: " + known + ")");
  }
  if (!(o.sample_rate > 0.0 && o.sample_rate <= 1.0)) {
    invalid("sample_rate must be in (0, 1], got " + std::to_string(o.sample_rate));
  }
  (void)SpatialSampler(o.sample_rate, o.seed);  // throws below 2^-24
  if (std::find(o.sizes.begin(), o.sizes.end(), 0U) != o.sizes.end()) {
    invalid("sizes must be at least 1 entry");
  }
  if (o.max_keys != 0 && o.policy != kLru) invalid("max_keys applies to policy 'lru' only");
}

unsigned thread_count(unsigned requested) {
  if (requested != 0) return requested;
  return std::clamp(std::thread::hardware_concurrency(), 1U, 2U);
}

std::vector<std::uint64_t> sizes_for(const MrcOptions& o, double distinct, double rate) {
  if (o.sizes.empty()) {
    return default_sizes(static_cast<std::uint64_t>(std::llround(distinct)), rate);
  }
  std::vector<std::uint64_t> sizes = o.sizes;
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

std::uint64_t count_distinct(std::span<const std::int64_t> keys) {
  KeyMap seen;
  for (const std::int64_t key : keys) {
    const std::uint64_t hash = KeyMap::hash_of(key);
    if (seen.find(key, hash) == KeyMap::kAbsent) seen.insert(key, hash, 0);
  }
  return seen.size();
}

MissRatioCurve lru_curve(std::span<const std::int64_t> keys, const MrcOptions& o) {
  const ReuseHistogram h = o.max_keys != 0
                               ? shards_fixed_size(keys, o.max_keys, o.sample_rate, o.seed)
                               : shards_fixed_rate(keys, o.sample_rate, o.seed);
  MissRatioCurve c;
  c.sample_rate = o.max_keys != 0 ? h.rate : o.sample_rate;
  c.sampled_requests = h.sampled_requests;
  c.distinct_keys = static_cast<std::uint64_t>(std::llround(h.distinct_keys));
  c.sizes = sizes_for(o, h.distinct_keys, c.sample_rate);
  c.miss_ratios = lru_miss_ratios(h, c.sizes, o.adjust);
  // Sizes the sample holds fewer than min_entries entries of: one more pass, at the rate that
  // gives the smallest of them min_entries (and so every other one more).
  const auto floor = static_cast<double>(o.min_entries);
  const auto small = static_cast<std::size_t>(
      std::find_if(c.sizes.begin(), c.sizes.end(),
                   [&](std::uint64_t s) { return static_cast<double>(s) * h.rate >= floor; }) -
      c.sizes.begin());
  if (o.max_keys == 0 && small > 0 && h.rate < 1.0) {
    const double rate = std::min(1.0, floor / static_cast<double>(c.sizes.front()));
    const std::span<const std::uint64_t> sizes(c.sizes.data(), small);
    const auto ratios = lru_miss_ratios(shards_fixed_rate(keys, rate, o.seed), sizes, o.adjust);
    std::copy(ratios.begin(), ratios.end(), c.miss_ratios.begin());
  }
  return c;
}

MissRatioCurve simulated_curve(std::span<const std::int64_t> keys, const MrcOptions& o) {
  const SpatialSampler sampler(o.sample_rate, o.seed);
  std::vector<std::int64_t> owned;
  std::span<const std::int64_t> sample = keys;
  if (sampler.threshold() < SpatialSampler::kModulus) {
    owned = sample_trace(keys, sampler);
    sample = owned;
  }
  MissRatioCurve c;
  c.sample_rate = o.sample_rate;
  c.sampled_requests = sample.size();
  const double distinct = static_cast<double>(count_distinct(sample)) / sampler.rate();
  c.distinct_keys = static_cast<std::uint64_t>(std::llround(distinct));
  c.sizes = sizes_for(o, distinct, o.sample_rate);
  const MiniatureOptions mini{.rate = o.sample_rate,
                              .seed = o.seed,
                              .min_entries = o.min_entries,
                              .adjust = o.adjust,
                              .threads = thread_count(o.threads)};
  c.miss_ratios = miniature_miss_ratios(keys, sample, o.policy, c.sizes, mini);
  return c;
}

}  // namespace

std::vector<std::uint64_t> default_sizes(std::uint64_t distinct_keys, double rate,
                                         std::size_t points) {
  const double lo = std::max(1.0, std::round(1.0 / rate));
  const double hi = std::max(lo, static_cast<double>(distinct_keys));
  std::vector<std::uint64_t> sizes;
  const std::size_t n = std::max<std::size_t>(points, 2);
  for (std::size_t i = 0; i < n; ++i) {
    const double f = static_cast<double>(i) / static_cast<double>(n - 1);
    const auto s = static_cast<std::uint64_t>(std::llround(lo * std::pow(hi / lo, f)));
    if (sizes.empty() || s > sizes.back()) sizes.push_back(s);
  }
  return sizes;
}

MissRatioCurve miss_ratio_curve(std::span<const std::int64_t> keys, const MrcOptions& options) {
  check(options);
  MissRatioCurve c =
      options.policy == kLru ? lru_curve(keys, options) : simulated_curve(keys, options);
  c.policy = options.policy;
  c.requests = keys.size();
  return c;
}

MissRatioCurve miss_ratio_curve_file(const std::string& path, const MrcOptions& options) {
  check(options);  // before the read: a bad argument should not cost seconds of I/O
  return miss_ratio_curve(read_trace(path), options);
}

}  // namespace stratacache::predict
