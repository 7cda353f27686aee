#include "store/window_miniature.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "store/tiny_lfu_policy.hpp"

namespace stratacache::store {

/// One miniature cache: a fixed-window W-TinyLFU driven as the store drives it, keyed by hash.
class WindowMiniature::Shadow {
 public:
  Shadow(Weight capacity, double window) : capacity_(capacity), policy_(capacity, config(window)) {
    slots_.assign(std::bit_ceil(2 * capacity + 2), Slot{});
    mask_ = slots_.size() - 1;
    key_of_.reserve(capacity + 1);
  }

  /// Returns whether the request hit.
  bool request(std::uint64_t hash) {
    const std::uint64_t h = hash == 0 ? 1 : hash;
    std::size_t i = home(h);
    for (; slots_[i].hash != 0; i = (i + 1) & mask_) {
      if (slots_[i].hash == h) {
        policy_.on_access(slots_[i].id, h);
        return true;
      }
    }
    policy_.on_miss(h);
    EntryId id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
      key_of_[id] = h;
    } else {
      id = static_cast<EntryId>(key_of_.size());
      key_of_.push_back(h);
    }
    slots_[i] = Slot{h, id};
    policy_.on_insert(id, h, 1);
    if (++live_ > capacity_) evict();
    return false;
  }

  void clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    key_of_.clear();
    free_.clear();
    live_ = 0;
    policy_.clear();
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;  // 0: empty
    EntryId id = 0;
  };

  static TinyLfuConfig config(double window) {
    TinyLfuConfig c;
    c.initial_window = window;
    c.adaptation = WindowAdaptation::kFixed;
    return c;
  }
  [[nodiscard]] std::size_t home(std::uint64_t h) const noexcept {
    return static_cast<std::size_t>(h * 0xff51afd7ed558ccdULL >> 20) & mask_;
  }

  void evict() {
    while (live_ > capacity_) {
      const auto victim = policy_.victim();
      if (!victim) return;
      erase(key_of_[*victim]);
      policy_.on_remove(*victim);
      free_.push_back(*victim);
      --live_;
    }
  }

  // Backward-shift deletion keeps probe sequences unbroken without tombstones.
  void erase(std::uint64_t h) noexcept {
    std::size_t i = home(h);
    while (slots_[i].hash != h) i = (i + 1) & mask_;
    for (std::size_t j = (i + 1) & mask_; slots_[j].hash != 0; j = (j + 1) & mask_) {
      const std::size_t k = home(slots_[j].hash);
      if (((j - k) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
  }

  Weight capacity_;
  TinyLfuPolicy policy_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::vector<std::uint64_t> key_of_;  // hash by entry id
  std::vector<EntryId> free_;
  Weight live_ = 0;
};

WindowMiniature::WindowMiniature(Weight capacity, const MiniatureConfig& config) : config_(config) {
  const double cap = static_cast<double>(std::max<Weight>(capacity, 1));
  rate_ = std::min({1.0, config_.max_rate, static_cast<double>(config_.shadow_entries) / cap});
  threshold_ = static_cast<std::uint64_t>(std::ldexp(rate_, 32));
  const auto shadow_capacity = std::max<Weight>(1, static_cast<Weight>(std::llround(cap * rate_)));
  if (config_.windows.empty()) config_.windows.push_back(0.01);
  for (const double w : config_.windows) {
    shadows_.push_back(std::make_unique<Shadow>(shadow_capacity, w));
  }
  score_.assign(shadows_.size(), 0.0);
  chosen_ = 0;
  period_ = std::max<std::uint64_t>(
      config_.min_period,
      static_cast<std::uint64_t>(config_.period * static_cast<double>(shadow_capacity)));
}

WindowMiniature::~WindowMiniature() = default;

bool WindowMiniature::request(std::uint64_t hash) {
  for (std::size_t i = 0; i < shadows_.size(); ++i) {
    if (shadows_[i]->request(hash)) score_[i] += 1;
  }
  if (++seen_ < period_) return false;
  seen_ = 0;
  return true;
}

double WindowMiniature::choose(bool free) noexcept {
  // A lead within the noise keeps the current choice; a farther move, which costs the real
  // cache more while it moves, needs a larger lead.
  double total = 0;
  for (const double s : score_) total += s;
  const double mean = std::max(1.0, total / static_cast<double>(score_.size()));
  std::size_t best = chosen_;
  double best_gain = 0;
  for (std::size_t i = 0; i < score_.size(); ++i) {
    const double distance = std::abs(config_.windows[i] - config_.windows[chosen_]);
    const double lead = free ? 0.0 : config_.hysteresis + config_.distance_cost * distance;
    const double gain = score_[i] - score_[chosen_] - mean * lead;
    if (gain > best_gain) {
      best = i;
      best_gain = gain;
    }
  }
  chosen_ = best;
  for (double& s : score_) s *= config_.decay;
  return config_.windows[chosen_];
}

void WindowMiniature::clear() {
  for (auto& s : shadows_) s->clear();
  std::fill(score_.begin(), score_.end(), 0.0);
  chosen_ = 0;
  seen_ = 0;
}

}  // namespace stratacache::store
