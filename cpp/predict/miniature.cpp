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

SimulationResult replay_miniature(std::span<const std::int64_t> keys, std::string_view policy,
                                  std::uint64_t capacity, double rate) {
  if (policy == kOptPolicy) return simulate_opt(keys, capacity);
  return store::with_policy(policy, [&](auto tag) {
    using Policy = typename decltype(tag)::type;
    if constexpr (std::is_same_v<Policy, store::TinyLfuPolicy>) {
      // Counted in requests, of which the sample sees R times fewer.
      store::TinyLfuConfig config;
      config.min_sample = std::max<std::uint64_t>(
          1,
          static_cast<std::uint64_t>(std::llround(static_cast<double>(config.min_sample) * rate)));
      Policy p(capacity, config);
      return replay(keys, p, capacity);
    } else {
      Policy p(capacity);
      return replay(keys, p, capacity);
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

std::vector<std::int64_t> sample_trace(std::span<const std::int64_t> keys,
                                       const SpatialSampler& sampler) {
  std::vector<std::int64_t> out;
  for (const std::int64_t key : keys) {
    if (sampler.sampled(KeyMap::hash_of(key))) out.push_back(key);
  }
  return out;
}

std::vector<double> miniature_miss_ratios(std::span<const std::int64_t> keys,
                                          std::span<const std::int64_t> sample,
                                          std::string_view policy,
                                          std::span<const std::uint64_t> sizes,
                                          const MiniatureOptions& options) {
  std::vector<double> out(sizes.size(), 1.0);
  const auto requests = static_cast<double>(keys.size());
  parallel_for(sizes.size(), options.threads, [&](std::size_t i) {
    const auto size = static_cast<double>(sizes[i]);
    const auto floor = static_cast<double>(options.min_entries);
    const double rate = size * options.rate < floor ? std::min(1.0, floor / size) : options.rate;
    const SpatialSampler sampler(rate, options.seed);
    std::vector<std::int64_t> own;  // this size's larger sample, if it needs one
    std::span<const std::int64_t> replayed = sample;
    if (sampler.threshold() == SpatialSampler::kModulus) {
      replayed = keys;
    } else if (rate != options.rate) {
      own = sample_trace(keys, sampler);
      replayed = own;
    }
    const auto capacity = static_cast<std::uint64_t>(std::llround(size * rate));
    if (capacity == 0 || replayed.empty()) return;  // nothing held, or no evidence of a hit
    const SimulationResult r = replay_miniature(replayed, policy, capacity, rate);
    if (options.adjust && replayed.data() != keys.data()) {
      out[i] = std::clamp(static_cast<double>(r.misses) / (requests * sampler.rate()), 0.0, 1.0);
    } else {
      out[i] = 1.0 - r.hit_ratio();
    }
  });
  return out;
}

}  // namespace stratacache::predict
