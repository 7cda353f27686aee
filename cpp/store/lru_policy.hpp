// Least-recently-used eviction: one queue, hits move to the back, the front is evicted.
#pragma once

#include <optional>
#include <string_view>

#include "store/eviction_policy.hpp"
#include "store/intrusive_list.hpp"
#include "store/unit_weights.hpp"

namespace stratacache::store {

/// Classic LRU; the baseline every other policy is compared with.
class LruPolicy {
 public:
  static constexpr std::string_view kName = "lru";

  explicit LruPolicy(Weight /*capacity*/) {}

  /// Room for `n` ids without reallocating (a store that knows its bound).
  void reserve(std::size_t n) { links_.nodes.reserve(n); }

  void on_insert(EntryId id, std::uint64_t /*hash*/, Weight w) {
    links_.ensure(id);
    weights_.set(id, w, links_.nodes.size());
    total_ += w;
    queue_.push_back(links_, id);
  }
  void on_access(EntryId id, std::uint64_t /*hash*/) noexcept { queue_.move_to_back(links_, id); }
  void on_miss(std::uint64_t /*hash*/) noexcept {}
  void on_expect(std::uint64_t /*hash*/) noexcept {}
  void on_update(EntryId id, std::uint64_t /*hash*/, Weight w) noexcept {
    total_ = total_ - weights_[id] + w;
    weights_.set(id, w, links_.nodes.size());
    queue_.move_to_back(links_, id);
  }
  void on_remove(EntryId id) noexcept {
    total_ -= weights_[id];
    queue_.unlink(links_, id);
  }
  [[nodiscard]] std::optional<EntryId> victim() const noexcept {
    if (queue_.empty()) return std::nullopt;
    return queue_.head();
  }
  void clear() noexcept {
    queue_.reset();
    total_ = 0;
  }
  [[nodiscard]] Weight weight() const noexcept { return total_; }

 private:
  Links links_;
  IdList queue_;
  UnitWeights<> weights_;
  Weight total_ = 0;
};

static_assert(EvictionPolicy<LruPolicy>);

}  // namespace stratacache::store
