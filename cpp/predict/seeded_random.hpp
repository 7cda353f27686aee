// Seeded random draws for the workload generators and the evaluations: built on the raw bits
// of mt19937_64 (whose output the standard fixes), so a seed gives the same draws everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace stratacache::predict {

/// Uniform, exponential and normal draws from one seeded generator.
class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) : rng_(seed) {}

  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  /// Uniform in (0, 1]: safe under a logarithm.
  double uniform_open() { return 1.0 - uniform(); }
  /// Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)) % n;
  }
  /// Exponential with the given mean.
  double exponential(double mean) { return -mean * std::log(uniform_open()); }
  /// Standard normal (Box-Muller; the second draw is discarded for simplicity).
  double normal() {
    return std::sqrt(-2.0 * std::log(uniform_open())) *
           std::cos(2.0 * std::numbers::pi * uniform());
  }
  /// Log-uniform in [lo, hi].
  double log_uniform(double lo, double hi) { return lo * std::exp(uniform() * std::log(hi / lo)); }

 private:
  std::mt19937_64 rng_;
};

}  // namespace stratacache::predict
