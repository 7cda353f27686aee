#include "predict/refresh_eval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>

#include "common/error.hpp"
#include "predict/key_map.hpp"
#include "predict/seeded_random.hpp"

namespace stratacache::predict {
namespace {

constexpr double kNever = -std::numeric_limits<double>::infinity();

struct Entry {
  double expires = kNever;
  double last_read = kNever;
  std::uint32_t generation = 0;
};

/// A timer decision due at `time` for the entry at `slot`, valid while its generation holds.
struct Due {
  double time;
  std::uint32_t slot;
  std::uint32_t generation;
  bool operator>(const Due& o) const noexcept { return time > o.time; }
};

/// Dense slots per key, shared by every replay of one evaluation.
class KeySlots {
 public:
  explicit KeySlots(const TimedWorkload& w) : map_(w.keys) {
    slots_.reserve(w.events.size());
    for (const Event& e : w.events) {
      const std::uint64_t h = KeyMap::hash_of(e.key);
      std::uint32_t s = map_.find(e.key, h);
      if (s == KeyMap::kAbsent) {
        s = static_cast<std::uint32_t>(keys_.size());
        map_.insert(e.key, h, s);
        keys_.push_back(e.key);
      }
      slots_.push_back(s);
    }
  }
  [[nodiscard]] std::uint32_t slot(std::size_t event) const { return slots_[event]; }
  [[nodiscard]] std::int64_t key(std::uint32_t slot) const { return keys_[slot]; }
  [[nodiscard]] std::size_t size() const { return keys_.size(); }

 private:
  KeyMap map_;
  std::vector<std::int64_t> keys_;
  std::vector<std::uint32_t> slots_;  // by event index
};

/// One replay. `on_hit(slot, t, entry)` says whether a read hit refreshes; `on_due(slot, t,
/// entry)` whether a timer decision refreshes (no timers when `timers` is false); `seen(event,
/// entry)` runs after each event.
template <class OnHit, class OnDue, class Seen>
RefreshPoint replay(const TimedWorkload& w, const KeySlots& slots, const RefreshOptions& o,
                    bool timers, OnHit on_hit, OnDue on_due, Seen seen) {
  std::vector<Entry> entries(slots.size());
  std::priority_queue<Due, std::vector<Due>, std::greater<>> heap;
  RefreshPoint p;
  auto renew = [&](std::uint32_t slot, double t) {
    Entry& e = entries[slot];
    e.expires = t + o.ttl;
    ++e.generation;
    if (timers) heap.push({e.expires - o.margin, slot, e.generation});
  };
  for (std::size_t i = 0; i < w.events.size(); ++i) {
    const Event& ev = w.events[i];
    while (!heap.empty() && heap.top().time <= ev.time) {
      const Due d = heap.top();
      heap.pop();
      if (entries[d.slot].generation != d.generation) continue;
      if (on_due(d.slot, d.time, entries[d.slot])) {
        p.refreshes += d.time >= o.warmup ? 1 : 0;
        renew(d.slot, d.time);
      }
    }
    const std::uint32_t slot = slots.slot(i);
    Entry& e = entries[slot];
    const bool counted = ev.time >= o.warmup;
    if (ev.op == Op::kSet) {
      renew(slot, ev.time);
    } else {
      p.gets += counted ? 1 : 0;
      if (e.expires > ev.time) {
        if (on_hit(slot, ev.time, e)) {
          p.refreshes += counted ? 1 : 0;
          renew(slot, ev.time);
        }
      } else {
        p.misses += counted ? 1 : 0;
        renew(slot, ev.time);
      }
      e.last_read = ev.time;
    }
    seen(ev, e);
  }
  return p;
}

auto no_refresh = [](std::uint32_t, double, const Entry&) { return false; };
auto nothing_seen = [](const Event&, const Entry&) {};

RefreshPoint run_predictor(const TimedWorkload& w, const KeySlots& slots, const RefreshOptions& o,
                           double threshold) {
  PredictorOptions po = o.predictor;
  po.horizon = o.ttl;
  po.sample_rate = 0;  // it learns from its own decision points
  AccessPredictor predictor(po);
  auto decide = [&](std::uint32_t slot, double t, const Entry&) {
    const std::int64_t key = slots.key(slot);
    predictor.advance(t);
    const double p = predictor.probability(key, t);
    predictor.observe(key, t, o.margin);
    const bool refresh = p >= threshold;
    if (refresh) predictor.table().set_expiry(key, t + o.ttl);  // as `seen` does for events
    return refresh;
  };
  auto seen = [&](const Event& ev, const Entry& e) {
    predictor.record(ev);
    predictor.table().set_expiry(ev.key, e.expires);
  };
  return replay(w, slots, o, true, no_refresh, decide, seen);
}

RefreshPoint run_oracle(const TimedWorkload& w, const KeySlots& slots, const RefreshOptions& o) {
  std::vector<std::vector<double>> reads(slots.size());
  for (std::size_t i = 0; i < w.events.size(); ++i) {
    if (w.events[i].op == Op::kGet) reads[slots.slot(i)].push_back(w.events[i].time);
  }
  auto decide = [&](std::uint32_t slot, double t, const Entry& e) {
    const auto& r = reads[slot];
    const auto next = std::upper_bound(r.begin(), r.end(), e.expires);
    return next != r.end() && *next <= t + o.ttl;
  };
  return replay(w, slots, o, true, no_refresh, decide, nothing_seen);
}

void check(const RefreshOptions& o) {
  if (!(o.ttl > 0) || !std::isfinite(o.ttl)) {
    throw Error(ErrorCode::kInvalidConfig, "refresh: ttl must be > 0 and finite");
  }
  if (!(o.margin >= 0 && o.margin < o.ttl)) {
    throw Error(ErrorCode::kInvalidConfig, "refresh: margin must be in [0, ttl)");
  }
  if (!(o.loader_seconds > 0) || !std::isfinite(o.loader_seconds)) {
    throw Error(ErrorCode::kInvalidConfig, "refresh: loader_seconds must be > 0 and finite");
  }
  for (const double b : o.xfetch_betas) {
    if (!(b > 0)) throw Error(ErrorCode::kInvalidConfig, "refresh: betas must be > 0");
  }
  for (const double win : o.windows) {
    if (!(win > 0)) throw Error(ErrorCode::kInvalidConfig, "refresh: windows must be > 0");
  }
}

}  // namespace

std::vector<RefreshPoint> evaluate_refresh(const TimedWorkload& w, const RefreshOptions& o) {
  check(o);
  const KeySlots slots(w);
  std::vector<RefreshPoint> out;
  auto add = [&](RefreshPoint p, const char* method, double parameter) {
    p.method = method;
    p.parameter = parameter;
    out.push_back(std::move(p));
  };
  add(replay(w, slots, o, false, no_refresh, no_refresh, nothing_seen), "none", 0);
  for (const double beta : o.xfetch_betas) {
    SeededRandom rng(o.seed);
    auto early = [&](std::uint32_t, double t, const Entry& e) {
      return t - o.loader_seconds * beta * std::log(rng.uniform_open()) >= e.expires;
    };
    add(replay(w, slots, o, false, early, no_refresh, nothing_seen), "xfetch", beta);
  }
  for (const double win : o.windows) {
    auto recent = [&](std::uint32_t, double t, const Entry& e) {
      return e.last_read > t - win * o.ttl;
    };
    add(replay(w, slots, o, true, no_refresh, recent, nothing_seen), "read_in_window", win);
  }
  for (const double threshold : o.thresholds) {
    add(run_predictor(w, slots, o, threshold), "predictor", threshold);
  }
  if (o.oracle) add(run_oracle(w, slots, o), "oracle", 0);
  return out;
}

}  // namespace stratacache::predict
