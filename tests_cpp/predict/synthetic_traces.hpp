// Seeded synthetic key sequences for the predictor's tests, identical on every platform.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace stratacache::predict::testing {

/// `n` requests over `keys` keys with Zipf(`alpha`) popularity, drawn by inverse CDF from the
/// raw bits of mt19937_64 (whose output the standard fixes), ranks spread over the keys.
inline std::vector<std::int64_t> zipf_trace(std::size_t n, std::size_t keys, double alpha,
                                            std::uint64_t seed) {
  std::vector<double> cdf(keys);
  double sum = 0;
  for (std::size_t r = 0; r < keys; ++r)
    cdf[r] = sum += 1.0 / std::pow(static_cast<double>(r + 1), alpha);
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> out(n);
  for (auto& key : out) {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * sum;
    const auto at = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
    const auto rank = std::min<std::int64_t>(at, static_cast<std::int64_t>(keys) - 1);
    key = rank * 7919 - 100000;  // negative keys too
  }
  return out;
}

/// Keys 0..keys-1 in order, `rounds` times: LRU below `keys` entries never hits.
inline std::vector<std::int64_t> loop_trace(std::size_t keys, std::size_t rounds) {
  std::vector<std::int64_t> out;
  for (std::size_t r = 0; r < rounds; ++r) {
    for (std::size_t k = 0; k < keys; ++k) out.push_back(static_cast<std::int64_t>(k));
  }
  return out;
}

}  // namespace stratacache::predict::testing
