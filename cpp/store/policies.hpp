// The list of eviction policies and the factory that maps a policy name to a store.
// Adding a policy: include its header, add it to `AllPolicies`; tests and bindings follow.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "common/error.hpp"
#include "store/lru_policy.hpp"
#include "store/s3_fifo_policy.hpp"
#include "store/sharded_store.hpp"
#include "store/tiny_lfu_policy.hpp"

namespace stratacache::store {

// Tags, not instances: policies are not default-constructible.
template <class... P>
using PolicyList = std::tuple<std::type_identity<P>...>;
using AllPolicies = PolicyList<LruPolicy, TinyLfuPolicy, S3FifoPolicy>;

/// The policy a store gets when none is named.
inline constexpr std::string_view kDefaultPolicy = TinyLfuPolicy::kName;

/// Names of every policy, in `AllPolicies` order.
[[nodiscard]] inline std::vector<std::string> policy_names() {
  return std::apply(
      [](auto... p) { return std::vector<std::string>{std::string(decltype(p)::type::kName)...}; },
      AllPolicies{});
}

/// Calls `f(Policy{}-typed tag)` for the policy called `name`; throws kInvalidConfig otherwise.
template <class F>
auto with_policy(std::string_view name, F&& f) {
  using Result = decltype(f(std::type_identity<LruPolicy>{}));
  std::optional<Result> out;
  bool found = false;
  std::apply(
      [&](auto... p) {
        (([&] {
           using P = typename decltype(p)::type;
           if (!found && name == P::kName) {
             found = true;
             out.emplace(f(p));
           }
         }()),
         ...);
      },
      AllPolicies{});
  if (!found) {
    std::string known;
    for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error(ErrorCode::kInvalidConfig,
                "unknown policy '" + std::string(name) + "' (known: " + known + ")");
  }
  return Result(std::move(*out));
}

/// A store of `Value`s with the named policy.
template <class Value>
[[nodiscard]] std::unique_ptr<Store<Value>> make_store(std::string_view policy,
                                                       const StoreConfig& config) {
  return with_policy(policy, [&](auto tag) -> std::unique_ptr<Store<Value>> {
    using P = typename decltype(tag)::type;
    return std::make_unique<ShardedStore<Value, P>>(config);
  });
}

}  // namespace stratacache::store
