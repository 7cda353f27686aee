// The part of a trace a sampled miss-ratio curve reads: the requests of a spatial sample of its
// keys, kept while the trace is read, with what the whole trace holds.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "predict/distinct_counter.hpp"
#include "predict/shards.hpp"

namespace stratacache::predict {

/// The requests of the keys `SpatialSampler(rate, seed)` keeps, in order (at rate 1: the whole
/// trace), with the trace's requests and distinct keys. Every sample of a lower rate and the
/// same seed is a subset of it, so the samples behind a curve can be taken from it alone.
struct TraceSample {
  std::vector<std::int64_t> owned;     ///< the kept requests, unless `keys` views the caller's
  std::span<const std::int64_t> keys;  ///< the kept requests
  /// Each kept request's `SpatialSampler::value` under the sample's seed (below rate 1 only),
  /// so that the samples of lower rates are taken from it without hashing again.
  std::vector<std::uint32_t> values;
  std::uint64_t requests = 0;  ///< requests of the whole trace
  double distinct_keys = 0;    ///< of the whole trace (`DistinctCounter`); 0 at rate 1
  double rate = 1;             ///< the sampler's rate
};

/// Builds a `TraceSample` from chunks of a trace, hashing each request once: the kept keys are
/// copied, the others only counted.
class TraceSampler {
 public:
  TraceSampler(double rate, std::uint64_t seed) : sampler_(rate, seed) {}

  void add(std::span<const std::int64_t> chunk);
  [[nodiscard]] TraceSample finish() &&;

 private:
  SpatialSampler sampler_;
  DistinctCounter distinct_;
  TraceSample sample_;
};

/// `TraceSampler` over `keys`; at rate 1 the sample views `keys` (no copy), and the distinct
/// keys are counted only if `count`.
[[nodiscard]] TraceSample sample_keys(std::span<const std::int64_t> keys, double rate,
                                      std::uint64_t seed, bool count);

/// `TraceSampler` over the trace at `path` as `read_trace_chunks` reads it: below rate 1 the
/// whole trace is never held. At rate 1, `read_trace`, with the distinct keys counted only if
/// `count`. Throws what `read_trace` throws.
[[nodiscard]] TraceSample sample_file(const std::string& path, double rate, std::uint64_t seed,
                                      bool count);

}  // namespace stratacache::predict
