// Concurrency stress: many threads get/set/erase/expire on shared keys. Run under TSan by the
// `tsan` preset; here it checks the invariants that survive any interleaving.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/hash.hpp"
#include "store/policies.hpp"

namespace stratacache::store {
namespace {

void hammer(Store<std::string>& store, int thread, int ops) {
  std::vector<std::string> dropped;
  std::uint64_t x = static_cast<std::uint64_t>(thread) * 7919 + 1;
  for (int i = 0; i < ops; ++i) {
    x = mix64(x);
    const std::string key = "k" + std::to_string(x % 512);
    const std::uint64_t h = hash_bytes(key);
    switch (x % 8) {
      case 0:
        store.erase({"", key}, h, dropped);
        break;
      case 1:
        store.set({"", key}, h, key, 1, Nanos{1'000'000}, dropped);  // 1 ms TTL
        break;
      case 2:
      case 3:
        store.set({"", key}, h, key, 1, kNoTtl, dropped);
        break;
      default:
        if (auto v = store.get({"", key}, h)) {
          ASSERT_EQ(*v, key);  // a value is only ever stored under its own key
        }
    }
    if (i % 1024 == 0) {
      store.expire(dropped);
      dropped.clear();
    }
  }
}

TEST(ShardedStoreStress, ConcurrentMixedOperationsKeepInvariants) {
  for (const auto& policy : policy_names()) {
    for (std::size_t shards : {1u, 4u}) {
      auto store =
          make_store<std::string>(policy, StoreConfig{.max_entries = 256, .shards = shards});
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) threads.emplace_back(hammer, std::ref(*store), t, 20'000);
      for (auto& t : threads) t.join();
      const StoreStats st = store->stats();
      EXPECT_LE(st.entries, 256u + shards) << policy;  // per-shard ceiling rounding
      EXPECT_EQ(st.entries, store->size()) << policy;
      EXPECT_LE(store->keys("").size(), st.entries) << policy;
    }
  }
}

}  // namespace
}  // namespace stratacache::store
