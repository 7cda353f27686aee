#include "store/ghost_climber.hpp"

#include <algorithm>

namespace stratacache::store {

std::size_t GhostClimber::ghost_capacity(std::size_t entries) const noexcept {
  return std::max<std::size_t>(
      16, static_cast<std::size_t>(config_.ghost_share * static_cast<double>(entries)));
}

void GhostClimber::record_eviction(std::uint64_t hash, bool from_window, std::size_t entries) {
  (from_window ? window_ghost_ : main_ghost_).push(hash, ghost_capacity(entries));
}

void GhostClimber::record_miss(std::uint64_t hash) noexcept {
  if (window_ghost_.take(hash)) ++window_votes_;
  if (main_ghost_.take(hash)) ++main_votes_;
}

std::int64_t GhostClimber::adjust(std::size_t window_entries, std::size_t probation_entries,
                                  std::size_t entries) noexcept {
  const auto per = [](std::uint64_t events, std::size_t space) {
    return static_cast<double>(events) / static_cast<double>(std::max<std::size_t>(space, 1));
  };
  const std::size_t ghost = ghost_capacity(entries);
  const double grow_gain = per(window_votes_, ghost);
  const double grow_loss = per(probation_hits_, std::min(ghost, probation_entries));
  const double shrink_gain = per(main_votes_, ghost);
  const double shrink_loss = per(window_hits_, std::min(ghost, window_entries));
  reset();
  const double total = grow_gain + grow_loss + shrink_gain + shrink_loss;
  if (total == 0) return 0;
  const double balance = ((grow_gain - grow_loss) - (shrink_gain - shrink_loss)) / total;
  adapt_step(balance);
  return static_cast<std::int64_t>(balance * step_ * capacity_);
}

void GhostClimber::adapt_step(double balance) noexcept {
  if (step_ < 0) {
    step_ = config_.step;
  } else if (balance * last_balance_ > 0) {
    step_ = std::min(config_.step, step_ * config_.step_up);
  } else if (balance * last_balance_ < 0) {
    step_ = std::max(std::min(config_.min_step, config_.step), step_ * config_.step_down);
  }
  last_balance_ = balance;
}

void GhostClimber::clear() {
  reset();
  step_ = -1;
  last_balance_ = 0;
  window_ghost_.clear();
  main_ghost_.clear();
}

}  // namespace stratacache::store
