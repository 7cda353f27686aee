#include "predict/trace_sample.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "predict/key_map.hpp"
#include "predict/miniature.hpp"
#include "predict/trace_reader.hpp"
#include "synthetic_traces.hpp"

namespace stratacache::predict {
namespace {

namespace fs = std::filesystem;

fs::path write_trace(const std::vector<std::int64_t>& keys, const std::string& name) {
  const fs::path p = fs::temp_directory_path() / name;
  std::ofstream out(p);
  for (const std::int64_t k : keys) out << k << '\n';
  return p;
}

TEST(TraceSample, KeepsTheSamplersKeysAndCountsTheWholeTrace) {
  const auto keys = testing::zipf_trace(100000, 10000, 0.8, 9);
  const TraceSample s = sample_keys(keys, 0.1, 4, true);
  EXPECT_EQ(s.requests, keys.size());
  EXPECT_EQ(std::vector<std::int64_t>(s.keys.begin(), s.keys.end()),
            sample_trace(keys, SpatialSampler(0.1, 4)));
  const auto distinct =
      static_cast<double>(std::set<std::int64_t>(keys.begin(), keys.end()).size());
  EXPECT_NEAR(s.distinct_keys, distinct, 0.02 * distinct);
  EXPECT_DOUBLE_EQ(s.rate, SpatialSampler(0.1, 4).rate());
}

TEST(TraceSample, ValuesGiveTheSamplesOfLowerRatesWithoutHashing) {
  const auto keys = testing::zipf_trace(50000, 5000, 0.8, 3);
  const TraceSample s = sample_keys(keys, 0.2, 7, false);
  ASSERT_EQ(s.values.size(), s.keys.size());
  for (std::size_t i = 0; i < s.keys.size(); ++i) {
    ASSERT_EQ(s.values[i], SpatialSampler(0.2, 7).value(KeyMap::hash_of(s.keys[i])));
  }
  for (const double rate : {0.2, 0.05, 0.001}) {
    const SpatialSampler lower(rate, 7);
    EXPECT_EQ(sample_trace(s.keys, s.values, lower.threshold()), sample_trace(keys, lower)) << rate;
  }
}

TEST(TraceSample, RateOneViewsTheKeysAndCountsOnlyIfAsked) {
  const std::vector<std::int64_t> keys = {5, 6, 5, 7};
  const TraceSample s = sample_keys(keys, 1.0, 0, false);
  EXPECT_EQ(s.keys.data(), keys.data());
  EXPECT_EQ(s.requests, 4U);
  EXPECT_EQ(s.distinct_keys, 0.0);
  EXPECT_NEAR(sample_keys(keys, 1.0, 0, true).distinct_keys, 3.0, 0.01);
}

TEST(TraceSample, FileAndMemoryAgree) {
  const auto keys = testing::zipf_trace(300000, 20000, 0.8, 10);  // several read chunks
  const fs::path path = write_trace(keys, "stratacache_trace_sample_test.txt");
  for (const double rate : {0.05, 1.0}) {
    const TraceSample file = sample_file(path.string(), rate, 2, true);
    const TraceSample memory = sample_keys(keys, rate, 2, true);
    EXPECT_EQ(file.requests, memory.requests) << rate;
    EXPECT_TRUE(
        std::equal(file.keys.begin(), file.keys.end(), memory.keys.begin(), memory.keys.end()))
        << rate;
    EXPECT_EQ(file.distinct_keys, memory.distinct_keys) << rate;
  }
  std::size_t chunks = 0;
  std::vector<std::int64_t> joined;
  read_trace_chunks(path.string(), [&](std::span<const std::int64_t> c) {
    ++chunks;
    joined.insert(joined.end(), c.begin(), c.end());
  });
  EXPECT_GT(chunks, 1U);
  EXPECT_EQ(joined, read_trace(path.string()));
  fs::remove(path);
}

}  // namespace
}  // namespace stratacache::predict
