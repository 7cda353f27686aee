// Sizing W-TinyLFU's admission window by miniature simulation: small shadow caches, one per
// candidate window share, fed a hash-sampled fraction of the keys; the best one names the window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "store/eviction_policy.hpp"

namespace stratacache::store {

/// Tuning of `WindowMiniature`; shares are of the capacity.
struct MiniatureConfig {
  /// The window shares simulated, one shadow cache each, ascending.
  std::vector<double> windows{0.01, 0.03, 0.07, 0.15, 0.3, 0.5, 0.7, 0.9};
  std::uint64_t shadow_entries = 1024;  ///< each shadow's capacity once the cache is larger
  double max_rate = 1.0;                ///< the largest share of keys sampled (small caches)
  double decay = 0.95;             ///< each decision keeps this share of the shadows' past hits
  double hysteresis = 0.01;        ///< the lead, relative to the shadows' mean hits, needed to move
  double distance_cost = 0.03;     ///< plus this much lead per unit of window share moved
  double period = 1.0;             ///< sampled requests per decision, per shadow entry...
  std::uint64_t min_period = 256;  ///< ...but at least this many
};

/// Spatially hashed miniature simulation [1]: each shadow is a W-TinyLFU cache with a fixed
/// window share, holding `rate` times the capacity and seeing the requests of the keys whose hash
/// falls in the sampled `rate` share of the hash space. Such a sample keeps each sampled key's
/// whole request sequence, so a shadow's hit ratio estimates that of a full-size cache with its
/// window; the real cache takes the window of the shadow with the most (decayed) hits.
///
/// Only sampled requests pay more than a multiply and a compare: with the default 1,024-entry
/// shadows, a cache of 64k entries samples 1 key in 64 and eight shadows cost an eighth of one
/// policy update per request on average; a cache at or below 1,024 entries samples every key.
///
/// [1] C. A. Waldspurger, T. Saemundsson, I. Ahmad, N. Park, "Cache Modeling and Optimization
///     using Miniature Simulations", USENIX ATC 2017.
class WindowMiniature {
 public:
  WindowMiniature(Weight capacity, const MiniatureConfig& config);
  ~WindowMiniature();
  WindowMiniature(const WindowMiniature&) = delete;
  WindowMiniature& operator=(const WindowMiniature&) = delete;

  /// Whether requests for `hash` feed the shadows.
  [[nodiscard]] bool sampled(std::uint64_t hash) const noexcept {
    return ((hash * 0x9e3779b97f4a7c15ULL) >> 32) < threshold_;
  }
  /// One request for a sampled key (hit or miss in the real cache alike); true when a decision
  /// is due (`choose()`).
  bool request(std::uint64_t hash);
  /// Ends a decision period; returns the window share the real cache should move to. With
  /// `free`, the best shadow wins by any lead (a cache still filling has nothing to lose).
  [[nodiscard]] double choose(bool free = false) noexcept;
  /// The share of keys sampled.
  [[nodiscard]] double rate() const noexcept { return rate_; }
  void clear();

 private:
  class Shadow;
  MiniatureConfig config_;
  double rate_;
  std::uint64_t threshold_;  // sampled: the hash's remixed top 32 bits below this
  std::vector<std::unique_ptr<Shadow>> shadows_;
  std::vector<double> score_;  // decayed hits per shadow
  std::size_t chosen_;         // index of the share last chosen
  std::uint64_t period_;       // sampled requests per decision
  std::uint64_t seen_ = 0;     // sampled requests since the last decision
};

}  // namespace stratacache::store
