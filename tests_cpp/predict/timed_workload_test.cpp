#include "predict/timed_workload.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <vector>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

WorkloadOptions small(const std::string& kind) {
  WorkloadOptions o;
  o.kind = kind;
  o.keys = 50;
  o.duration = 2000;
  o.rate = 20;
  o.scan_length = 30;
  o.scan_every = 500;
  o.seed = 7;
  return o;
}

bool sorted(const TimedWorkload& w) {
  return std::is_sorted(w.events.begin(), w.events.end(),
                        [](const Event& a, const Event& b) { return a.time < b.time; });
}

TEST(TimedWorkload, EveryGeneratedKindIsSortedInsideItsDurationAndSeeded) {
  for (const std::string kind : {"periodic", "bursty", "diurnal", "scan"}) {
    const auto a = make_workload(small(kind));
    const auto b = make_workload(small(kind));
    ASSERT_FALSE(a.events.empty()) << kind;
    EXPECT_TRUE(sorted(a)) << kind;
    EXPECT_GE(a.events.front().time, 0) << kind;
    EXPECT_LT(a.events.back().time, a.duration) << kind;
    ASSERT_EQ(a.events.size(), b.events.size()) << kind;
    EXPECT_TRUE(std::equal(a.events.begin(), a.events.end(), b.events.begin(),
                           [](const Event& x, const Event& y) {
                             return x.time == y.time && x.key == y.key && x.op == y.op;
                           }))
        << kind;
    auto other = small(kind);
    other.seed = 8;
    EXPECT_NE(make_workload(other).events.front().time, a.events.front().time) << kind;
  }
}

TEST(TimedWorkload, PeriodicKeysKeepTheirPeriod) {
  auto o = small("periodic");
  o.jitter = 0;
  o.period_min = 40;
  o.period_max = 40;
  const auto w = make_workload(o);
  std::map<std::int64_t, std::vector<double>> times;
  for (const Event& e : w.events) times[e.key].push_back(e.time);
  EXPECT_EQ(times.size(), 50U);
  for (const auto& [key, ts] : times) {
    EXPECT_EQ(ts.size(), 50U);  // 2000 s / 40 s
    for (std::size_t i = 1; i < ts.size(); ++i) EXPECT_NEAR(ts[i] - ts[i - 1], 40, 1e-9);
  }
}

TEST(TimedWorkload, DiurnalRateFollowsTheSine) {
  auto o = small("diurnal");
  o.cycle = 2000;
  o.amplitude = 0.9;
  o.keys = 4;  // one key per time zone: every phase equally popular would cancel the sine
  o.zipf_alpha = 0;
  const auto w = make_workload(o);
  // Key 0 has phase 0: its rate peaks in the first quarter and bottoms out in the third.
  std::size_t first_quarter = 0;
  std::size_t third_quarter = 0;
  for (const Event& e : w.events) {
    if (e.key != 0) continue;
    first_quarter += e.time < 500;
    third_quarter += e.time >= 1000 && e.time < 1500;
  }
  EXPECT_GT(first_quarter, 2 * third_quarter);
}

TEST(TimedWorkload, ScansRepeatTheSameColdKeys) {
  const auto w = make_workload(small("scan"));
  std::map<std::int64_t, int> cold;
  for (const Event& e : w.events) {
    if (e.key >= 50) ++cold[e.key];
  }
  EXPECT_EQ(cold.size(), 30U);
  for (const auto& [key, n] : cold) EXPECT_EQ(n, 3) << key;  // scans at 500, 1000, 1500
}

TEST(TimedWorkload, UpdatesArePoissonWritesOfReadKeys) {
  auto o = small("periodic");
  o.update_interval = 100;
  const auto w = make_workload(o);
  std::size_t writes = 0;
  for (const Event& e : w.events) writes += e.op == Op::kSet;
  // 50 keys over 2000 s, mean interval between 50 and 200 s: roughly 500 to 2000 writes.
  EXPECT_GT(writes, 400U);
  EXPECT_LT(writes, 2500U);
  EXPECT_TRUE(sorted(w));
}

TEST(TimedWorkload, MergeKeepsNamespacesApart) {
  auto a = small("periodic");
  auto b = small("bursty");
  b.ns = 1;
  const auto merged = merge_workloads({make_workload(a), make_workload(b)});
  EXPECT_TRUE(sorted(merged));
  const auto only_b = events_of(merged, 1);
  ASSERT_FALSE(only_b.empty());
  for (const Event& e : only_b) EXPECT_GE(e.key, std::int64_t{1} << 40);
  EXPECT_EQ(merged.keys, make_workload(a).keys + make_workload(b).keys);
}

TEST(TimedWorkload, TraceGetsPoissonClock) {
  const std::filesystem::path trace = std::filesystem::path(STRATACACHE_TRACES_DIR) / "gli.txt.gz";
  if (!std::filesystem::exists(trace)) GTEST_SKIP() << "shared traces not found";
  WorkloadOptions o;
  o.kind = "trace";
  o.trace_path = trace.string();
  o.max_requests = 1000;
  o.rate = 10;
  const auto w = make_workload(o);
  ASSERT_EQ(w.events.size(), 1000U);
  EXPECT_TRUE(sorted(w));
  EXPECT_NEAR(w.duration, 100, 20);  // 1000 requests at 10 per second
}

TEST(TimedWorkload, RejectsBadOptions) {
  auto bad_kind = small("weekly");
  EXPECT_THROW((void)make_workload(bad_kind), Error);
  auto no_keys = small("periodic");
  no_keys.keys = 0;
  EXPECT_THROW((void)make_workload(no_keys), Error);
  auto bad_period = small("periodic");
  bad_period.period_max = 1;
  EXPECT_THROW((void)make_workload(bad_period), Error);
  auto bad_rate = small("diurnal");
  bad_rate.rate = -1;
  EXPECT_THROW((void)make_workload(bad_rate), Error);
  auto no_path = small("trace");
  EXPECT_THROW((void)make_workload(no_path), Error);
  auto bad_updates = small("bursty");
  bad_updates.update_interval = std::nan("");
  EXPECT_THROW((void)make_workload(bad_updates), Error);
}

}  // namespace
}  // namespace stratacache::predict
