#include "predict/warm_eval.hpp"

#include <algorithm>
#include <list>
#include <unordered_map>
#include <unordered_set>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

using Keys = std::vector<std::int64_t>;

/// Hits of `reads` through an LRU cache of `capacity` preloaded with `warm` (best first).
std::uint64_t lru_hits(const Keys& warm, const Keys& reads, std::uint64_t capacity) {
  std::list<std::int64_t> order;  // front: most recently used
  std::unordered_map<std::int64_t, std::list<std::int64_t>::iterator> where;
  auto touch = [&](std::int64_t key) {
    if (auto it = where.find(key); it != where.end()) {
      order.splice(order.begin(), order, it->second);
      return true;
    }
    order.push_front(key);
    where[key] = order.begin();
    if (order.size() > capacity) {
      where.erase(order.back());
      order.pop_back();
    }
    return false;
  };
  for (auto it = warm.rbegin(); it != warm.rend(); ++it) touch(*it);
  std::uint64_t hits = 0;
  for (const std::int64_t key : reads) hits += touch(key) ? 1 : 0;
  return hits;
}

/// The `n` keys with the highest count, ties to the one read last.
Keys top_by_count(const std::vector<Event>& events, std::size_t n) {
  std::unordered_map<std::int64_t, std::pair<std::uint64_t, double>> counts;
  for (const Event& e : events) {
    auto& [count, last] = counts[e.key];
    ++count;
    last = e.time;
  }
  std::vector<std::pair<std::int64_t, std::pair<std::uint64_t, double>>> ranked(counts.begin(),
                                                                                counts.end());
  n = std::min(n, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                    [](const auto& a, const auto& b) { return a.second > b.second; });
  Keys out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(ranked[i].first);
  return out;
}

/// The `n` distinct keys read last.
Keys most_recent(const std::vector<Event>& events, std::size_t n) {
  Keys out;
  std::unordered_set<std::int64_t> seen;
  for (auto it = events.rbegin(); it != events.rend() && out.size() < n; ++it) {
    if (seen.insert(it->key).second) out.push_back(it->key);
  }
  return out;
}

}  // namespace

std::vector<WarmResult> evaluate_warming(const TimedWorkload& w, const WarmOptions& o) {
  if (o.warm_keys == 0) throw Error(ErrorCode::kInvalidConfig, "warming: warm_keys must be > 0");
  const std::uint64_t capacity = o.capacity != 0 ? o.capacity : o.warm_keys;
  const std::uint64_t measured = o.measure_reads != 0 ? o.measure_reads : o.warm_keys;
  if (capacity < o.warm_keys) {
    throw Error(ErrorCode::kInvalidConfig, "warming: capacity must be >= warm_keys");
  }
  const auto split = std::lower_bound(w.events.begin(), w.events.end(), o.restart_at,
                                      [](const Event& e, double t) { return e.time < t; });
  std::vector<Event> before;  // reads only
  for (auto it = w.events.begin(); it != split; ++it) {
    if (it->op == Op::kGet) before.push_back(*it);
  }
  Keys after;
  std::vector<Event> after_events;
  for (auto it = split; it != w.events.end() && after.size() < measured; ++it) {
    if (it->op != Op::kGet) continue;
    after.push_back(it->key);
    after_events.push_back(*it);
  }
  if (after.empty()) throw Error(ErrorCode::kInvalidConfig, "warming: no read after restart_at");
  // The predictor's horizon: the time the last `measured` reads before the restart took.
  const std::size_t back = std::min<std::size_t>(measured, before.size());
  const double horizon =
      back == 0 ? 1.0 : std::max(o.restart_at - before[before.size() - back].time, 1e-3);
  const std::size_t window =
      std::min<std::size_t>(o.window_reads != 0 ? o.window_reads : measured, before.size());
  const std::vector<Event> recent(before.end() - static_cast<std::ptrdiff_t>(window), before.end());

  PredictorOptions po = o.predictor;
  po.horizon = horizon;
  AccessPredictor predictor(po);
  for (auto it = w.events.begin(); it != split; ++it) predictor.record(*it);

  const std::size_t n = o.warm_keys;
  const std::vector<std::pair<const char*, Keys>> methods = {
      {"cold", {}},
      {"most_recent", most_recent(recent, n)},
      {"most_frequent", top_by_count(recent, n)},
      {"predictor", predictor.top_keys(n, o.restart_at)},
      {"oracle", top_by_count(after_events, n)},
  };
  std::vector<WarmResult> out;
  for (const auto& [name, keys] : methods) {
    out.push_back({name, keys.size(), lru_hits(keys, after, capacity), after.size()});
  }
  return out;
}

}  // namespace stratacache::predict
