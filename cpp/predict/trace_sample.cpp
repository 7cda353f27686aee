#include "predict/trace_sample.hpp"

#include "predict/key_map.hpp"
#include "predict/trace_reader.hpp"

namespace stratacache::predict {

void TraceSampler::add(std::span<const std::int64_t> chunk) {
  sample_.requests += chunk.size();
  for (const std::int64_t key : chunk) {
    const std::uint64_t hash = KeyMap::hash_of(key);
    distinct_.add(hash);
    const std::uint64_t value = sampler_.value(hash);
    if (value < sampler_.threshold()) {
      sample_.owned.push_back(key);
      sample_.values.push_back(static_cast<std::uint32_t>(value));
    }
  }
}

TraceSample TraceSampler::finish() && {
  sample_.distinct_keys = distinct_.estimate();
  sample_.rate = sampler_.rate();
  sample_.keys = sample_.owned;
  return std::move(sample_);
}

namespace {

double count_distinct(std::span<const std::int64_t> keys) {
  DistinctCounter counter;
  for (const std::int64_t key : keys) counter.add(KeyMap::hash_of(key));
  return counter.estimate();
}

}  // namespace

TraceSample sample_keys(std::span<const std::int64_t> keys, double rate, std::uint64_t seed,
                        bool count) {
  if (rate >= 1.0) {
    TraceSample whole;
    whole.keys = keys;
    whole.requests = keys.size();
    if (count) whole.distinct_keys = count_distinct(keys);
    return whole;
  }
  TraceSampler sampler(rate, seed);
  sampler.add(keys);
  return std::move(sampler).finish();
}

TraceSample sample_file(const std::string& path, double rate, std::uint64_t seed, bool count) {
  if (rate >= 1.0) {
    TraceSample whole;
    whole.owned = read_trace(path);
    whole.keys = whole.owned;
    whole.requests = whole.owned.size();
    if (count) whole.distinct_keys = count_distinct(whole.keys);
    return whole;
  }
  TraceSampler sampler(rate, seed);
  read_trace_chunks(path, [&](std::span<const std::int64_t> chunk) { sampler.add(chunk); });
  return std::move(sampler).finish();
}

}  // namespace stratacache::predict
