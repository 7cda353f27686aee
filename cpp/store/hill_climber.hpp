// Sizing W-TinyLFU's admission window online by hill climbing on the sampled hit rate.
#pragma once

#include <cmath>
#include <cstdint>

#include "store/eviction_policy.hpp"

namespace stratacache::store {

/// Tuning of `HillClimber`; step sizes are fractions of the capacity.
struct HillClimberConfig {
  double step = 0.0625;             ///< first (and restarted) step, as a fraction of capacity
  double step_decay = 0.98;         ///< each sample without restart shrinks the step by this
  double restart_threshold = 0.05;  ///< a hit-rate change this large restarts with `step`
};

/// Proposes how much capacity to move from the main space to the window (or back).
///
/// The idea is Caffeine's adaptive W-TinyLFU [1]: count hits and misses over a sample of
/// requests; when the sample is complete, compare its hit rate with the previous sample's. If it
/// did not get worse, keep moving in the same direction, else reverse. Steps decay
/// geometrically so the window settles, and a large change of the hit rate (a new workload
/// phase) restarts the search with a full step. The first step shrinks the window.
///
/// [1] G. Einziger, O. Eytan, R. Friedman, B. Manes, "Adaptive Software Cache Management",
///     Middleware 2018.
class HillClimber {
 public:
  HillClimber(Weight capacity, const HillClimberConfig& config) noexcept
      : config_(config), capacity_(static_cast<double>(capacity)) {
    reset();
  }

  void record_hit() noexcept { ++hits_; }
  void record_miss() noexcept { ++misses_; }
  [[nodiscard]] std::uint64_t sampled() const noexcept { return hits_ + misses_; }

  /// Ends the current sample and returns the signed number of weight units the window should
  /// grow by (negative: shrink).
  [[nodiscard]] std::int64_t adjust() noexcept {
    const double rate = static_cast<double>(hits_) / static_cast<double>(sampled());
    const double change = rate - previous_rate_;
    const double amount = change >= 0 ? step_ : -step_;
    const double full = config_.step * capacity_;
    step_ = std::abs(change) >= config_.restart_threshold ? (amount >= 0 ? full : -full)
                                                          : config_.step_decay * amount;
    previous_rate_ = rate;
    hits_ = misses_ = 0;
    return static_cast<std::int64_t>(amount);
  }

  /// Turns the search around, keeping the step size; for when a step hit a bound and did
  /// nothing, which would otherwise read as "no worse, keep going" forever.
  void reverse() noexcept { step_ = -step_; }

  void reset() noexcept {
    hits_ = misses_ = 0;
    previous_rate_ = 0;
    step_ = -config_.step * capacity_;
  }

 private:
  HillClimberConfig config_;
  double capacity_;
  double previous_rate_ = 0;
  double step_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace stratacache::store
