#include "store/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace stratacache::store {
namespace {

constexpr Nanos kSecond = 1'000'000'000;

std::vector<EntryId> advance(TimerWheel& wheel, Nanos now) {
  std::vector<EntryId> expired;
  wheel.advance(now, [&](EntryId id) { expired.push_back(id); });
  return expired;
}

TEST(TimerWheel, ExpiresOnlyDueEntries) {
  TimerWheel wheel(kSecond);
  wheel.schedule(1, 2 * kSecond);
  wheel.schedule(2, 100 * kSecond);
  EXPECT_TRUE(advance(wheel, kSecond + 1).empty());
  const auto due = advance(wheel, 5 * kSecond);
  EXPECT_EQ(due, std::vector<EntryId>{1});
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(advance(wheel, 200 * kSecond), std::vector<EntryId>{2});
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CancelAfterTimeMovedFindsTheRightBucket) {
  TimerWheel wheel(0);
  wheel.schedule(7, 3600 * kSecond);  // placed on a high level
  advance(wheel, 3000 * kSecond);     // time moves; the entry's level would differ now
  wheel.cancel(7);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_TRUE(advance(wheel, 10'000 * kSecond).empty());
}

TEST(TimerWheel, FarDeadlinesWaitInOverflow) {
  TimerWheel wheel(0);
  const Nanos far = Nanos{1} << 62;
  wheel.schedule(3, far);
  EXPECT_TRUE(advance(wheel, far / 2).empty());
  EXPECT_EQ(advance(wheel, far), std::vector<EntryId>{3});
}

TEST(TimerWheel, RandomScheduleMatchesReference) {
  std::mt19937_64 rng(7);
  TimerWheel wheel(0);
  std::vector<Nanos> deadline(2000, 0);
  for (EntryId id = 0; id < deadline.size(); ++id) {
    deadline[id] = 1 + static_cast<Nanos>(rng() % (Nanos{1} << 40));
    wheel.schedule(id, deadline[id]);
  }
  std::set<EntryId> expired;
  Nanos now = 0;
  while (wheel.size() > 0) {
    now += static_cast<Nanos>(rng() % (Nanos{1} << 34));
    for (EntryId id : advance(wheel, now)) {
      EXPECT_LE(deadline[id], now) << "expired early";
      EXPECT_TRUE(expired.insert(id).second) << "expired twice";
    }
  }
  EXPECT_EQ(expired.size(), deadline.size());
}

}  // namespace
}  // namespace stratacache::store
