#include "store/ghost_climber.hpp"

#include <algorithm>

namespace stratacache::store {

GhostClimber::GhostClimber(Weight capacity, const GhostClimberConfig& config) noexcept
    : config_(config), capacity_(static_cast<double>(capacity)) {
  // Sized for a full cache (with byte weights, for more entries than it will hold) until the
  // first eviction says how many entries it holds.
  update_sample_shift(ghost_capacity(static_cast<std::size_t>(capacity)));
}

std::size_t GhostClimber::ghost_capacity(std::size_t entries) const noexcept {
  return std::max<std::size_t>(
      16, static_cast<std::size_t>(config_.ghost_share * static_cast<double>(entries)));
}

// Grows the shift while each ghost keeps `min_sampled_ghost` hashes; shrinks it only once they
// would fall below half that, so that an entry count at a boundary does not flip it (each flip
// would change which keys the ghosts hold).
void GhostClimber::update_sample_shift(std::size_t band) noexcept {
  const std::size_t least = std::max<std::size_t>(config_.min_sampled_ghost, 1);
  unsigned shift = sample_shift_;
  while (shift < config_.max_sample_shift && shift < 31 && (band >> (shift + 1)) >= least) ++shift;
  while (shift > 0 && (band >> shift) < least / 2) --shift;
  if (shift == sample_shift_) return;
  sample_shift_ = shift;
  sample_threshold_ = (std::uint64_t{1} << 32) >> shift;
}

void GhostClimber::push_sampled(std::uint64_t hash, bool from_window, std::size_t entries) {
  const std::size_t band = ghost_capacity(entries);
  update_sample_shift(band);
  (from_window ? window_ghost_ : main_ghost_)
      .push(hash, std::max<std::size_t>(1, band >> sample_shift_));
}

void GhostClimber::take_sampled(std::uint64_t hash) noexcept {
  if (window_ghost_.take(hash)) ++window_votes_;
  if (main_ghost_.take(hash)) ++main_votes_;
}

std::int64_t GhostClimber::adjust(std::size_t window_entries, std::size_t probation_entries,
                                  std::size_t entries) noexcept {
  const auto per = [](std::uint64_t events, std::size_t space) {
    return static_cast<double>(events) / static_cast<double>(std::max<std::size_t>(space, 1));
  };
  const std::size_t ghost = ghost_capacity(entries);
  // Each sampled vote stands for 2^shift keys' votes.
  const double grow_gain = per(window_votes_ << sample_shift_, ghost);
  const double grow_loss = per(probation_hits_, std::min(ghost, probation_entries));
  const double shrink_gain = per(main_votes_ << sample_shift_, ghost);
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
  sample_shift_ = 0;
  sample_threshold_ = std::uint64_t{1} << 32;
  update_sample_shift(ghost_capacity(static_cast<std::size_t>(capacity_)));
  window_ghost_.clear();
  main_ghost_.clear();
}

}  // namespace stratacache::store
