#include "predict/distinct_counter.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include "predict/key_map.hpp"

namespace stratacache::predict {
namespace {

double estimate_of(std::int64_t distinct, int repeats) {
  DistinctCounter c;
  for (int r = 0; r < repeats; ++r) {
    for (std::int64_t k = 0; k < distinct; ++k) c.add(KeyMap::hash_of(k * 7919 + 3));
  }
  return c.estimate();
}

TEST(DistinctCounter, EmptyCountsNothing) { EXPECT_EQ(DistinctCounter().estimate(), 0.0); }

// Linear counting below 2.5 * 2^16 keys, HyperLogLog above (~0.4% standard error there).
TEST(DistinctCounter, EstimatesWithinAPercentAndIgnoresRepeats) {
  for (const std::int64_t n : {10, 1000, 50000, 200000, 2000000}) {
    const double e = estimate_of(n, n <= 50000 ? 3 : 1);
    EXPECT_NEAR(e, static_cast<double>(n), 0.01 * static_cast<double>(n) + 1) << n;
  }
}

}  // namespace
}  // namespace stratacache::predict
