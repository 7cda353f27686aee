#include "store/sharded_store.hpp"

#include <gtest/gtest.h>

#include <string>

#include "store/lru_policy.hpp"

namespace stratacache::store {
namespace {

using LruStore = ShardedStore<std::string, LruPolicy>;
constexpr std::uint64_t kH = 42;

TEST(ShardedStore, SetThenGetReturnsValue) {
  LruStore store{StoreConfig{.max_entries = 4}};
  std::vector<std::string> dropped;
  EXPECT_EQ(store.set({"", "a"}, kH, "1", 1, kNoTtl, dropped), SetOutcome::kInserted);
  EXPECT_EQ(store.get({"", "a"}, kH), "1");
}

}  // namespace
}  // namespace stratacache::store
