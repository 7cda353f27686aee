#include "predict/miniature.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>

#include "predict/belady.hpp"
#include "predict/key_map.hpp"
#include "predict/replay.hpp"
#include "store/policies.hpp"

namespace stratacache::predict {
namespace {

// A replayed sample with what the regression estimator needs: each request's weight (its
// key's requests in the sample) and the sample's totals.
struct WeighedSample {
  std::vector<double> weights;
  SampleTotals totals;
};

WeighedSample weigh(std::span<const std::int64_t> sample, double population_requests,
                    double population_keys) {
  KeyMap ids(1024);
  std::vector<std::uint32_t> id_of(sample.size());
  std::vector<double> count;
  for (std::size_t i = 0; i < sample.size(); ++i) {
    const std::uint64_t hash = KeyMap::hash_of(sample[i]);
    std::uint32_t id = ids.find(sample[i], hash);
    if (id == KeyMap::kAbsent) {
      id = static_cast<std::uint32_t>(count.size());
      ids.insert(sample[i], hash, id);
      count.push_back(0);
    }
    count[id] += 1;
    id_of[i] = id;
  }
  WeighedSample out;
  out.weights.resize(sample.size());
  for (std::size_t i = 0; i < sample.size(); ++i) out.weights[i] = count[id_of[i]];
  out.totals = {.requests = static_cast<double>(sample.size()),
                .keys = static_cast<double>(count.size()),
                .population_requests = population_requests,
                .population_keys = population_keys};
  for (const double n : count) out.totals.requests_squared += n * n;
  return out;
}

SimulationResult replay_miniature(std::span<const std::int64_t> keys, std::string_view policy,
                                  std::uint64_t capacity, double rate,
                                  std::span<const double> weights) {
  if (policy == kOptPolicy) return simulate_opt(keys, capacity, weights);
  return store::with_policy(policy, [&](auto tag) {
    using Policy = typename decltype(tag)::type;
    if constexpr (std::is_same_v<Policy, store::TinyLfuPolicy>) {
      // Counted in requests, of which the sample sees R times fewer.
      store::TinyLfuConfig config;
      config.min_sample = std::max<std::uint64_t>(
          1,
          static_cast<std::uint64_t>(std::llround(static_cast<double>(config.min_sample) * rate)));
      Policy p(capacity, config);
      return replay(keys, p, capacity, weights);
    } else {
      Policy p(capacity);
      return replay(keys, p, capacity, weights);
    }
  });
}

// Calls body(i) for i in [0, n) on up to `threads` threads (this one included); rethrows the
// first exception once all have stopped.
template <class Body>
void parallel_for(std::size_t n, unsigned threads, const Body& body) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_lock;
  const auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        body(i);
      } catch (...) {
        const std::lock_guard lock(failure_lock);
        if (!failure) failure = std::current_exception();
        next.store(n);
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    const std::size_t extra = std::min<std::size_t>(std::max(threads, 1U), n) - (n > 0 ? 1 : 0);
    for (std::size_t t = 0; t < extra; ++t) pool.emplace_back(work);
    work();
  }  // joins
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

double miniature_rate(double size, const MiniatureOptions& options) {
  const auto floor = static_cast<double>(options.min_entries);
  if (floor == 0) return options.rate;
  const double least = size * options.rate < floor ? std::min(1.0, floor / size) : options.rate;
  // A few times the rate buys sizes just above the floor kBoostEntries times its entries.
  const double boosted = std::min(kBoostEntries * floor / size, kBoostRate * options.rate);
  return std::min(1.0, std::max(least, boosted));
}

std::vector<std::int64_t> sample_trace(std::span<const std::int64_t> keys,
                                       const SpatialSampler& sampler) {
  std::vector<std::int64_t> out;
  for (const std::int64_t key : keys) {
    if (sampler.sampled(KeyMap::hash_of(key))) out.push_back(key);
  }
  return out;
}

std::vector<std::int64_t> sample_trace(std::span<const std::int64_t> keys,
                                       std::span<const std::uint32_t> values,
                                       std::uint64_t threshold) {
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (values[i] < threshold) out.push_back(keys[i]);
  }
  return out;
}

std::vector<double> miniature_miss_ratios(std::span<const std::int64_t> keys,
                                          std::span<const std::int64_t> sample,
                                          std::string_view policy,
                                          std::span<const std::uint64_t> sizes,
                                          const MiniatureOptions& options) {
  std::vector<double> out(sizes.size(), 1.0);
  const auto requests = static_cast<double>(options.requests != 0 ? options.requests : keys.size());
  const bool regress = options.adjust && options.population_keys > 0;
  const bool sampled = sample.data() != keys.data() || sample.size() != keys.size();
  const WeighedSample shared =
      regress && sampled ? weigh(sample, requests, options.population_keys) : WeighedSample{};
  parallel_for(sizes.size(), options.threads, [&](std::size_t i) {
    const auto size = static_cast<double>(sizes[i]);
    const double rate = miniature_rate(size, options);
    const SpatialSampler sampler(rate, options.seed);
    std::vector<std::int64_t> own;  // this size's larger sample, if it needs one
    std::span<const std::int64_t> replayed = sample;
    const WeighedSample* weighed = &shared;
    WeighedSample own_weights;
    if (sampler.threshold() == SpatialSampler::kModulus) {
      replayed = keys;
    } else if (rate != options.rate) {
      own = options.values.size() == keys.size()
                ? sample_trace(keys, options.values, sampler.threshold())
                : sample_trace(keys, sampler);
      replayed = own;
      if (regress) own_weights = weigh(own, requests, options.population_keys);
      weighed = &own_weights;
    }
    const bool exact = replayed.data() == keys.data();
    const auto capacity = static_cast<std::uint64_t>(std::llround(size * rate));
    if (capacity == 0 || replayed.empty()) return;  // nothing held, or no evidence of a hit
    const std::span<const double> weights =
        regress && !exact ? std::span<const double>(weighed->weights) : std::span<const double>{};
    const SimulationResult r = replay_miniature(replayed, policy, capacity, rate, weights);
    if (regress && !exact) {
      const double misses =
          regression_misses(static_cast<double>(r.misses), r.weighted_misses, weighed->totals);
      out[i] = std::clamp(misses / requests, 0.0, 1.0);
    } else if (options.adjust && !exact) {
      out[i] = std::clamp(static_cast<double>(r.misses) / (requests * sampler.rate()), 0.0, 1.0);
    } else {
      out[i] = 1.0 - r.hit_ratio();
    }
  });
  return out;
}

}  // namespace stratacache::predict
