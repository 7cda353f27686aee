// W-TinyLFU eviction: an LRU admission window in front of a segmented LRU main space, a
// frequency sketch deciding who enters main, and an adaptive split between window and main.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "store/eviction_policy.hpp"
#include "store/frequency_sketch.hpp"
#include "store/ghost_climber.hpp"
#include "store/hill_climber.hpp"
#include "store/intrusive_list.hpp"
#include "store/unit_weights.hpp"
#include "store/window_miniature.hpp"

namespace stratacache::store {

/// How `TinyLfuPolicy` sizes its window.
enum class WindowAdaptation : std::uint8_t {
  kFixed,        ///< keep `initial_window`
  kHillClimber,  ///< Caffeine's climber on hit-rate changes between samples
  kGhost,        ///< `GhostClimber`: ghost hits against hits at the margin, per sample
  kMiniature,    ///< `WindowMiniature`: the best of sampled shadow caches, per sample
};

/// Tuning of `TinyLfuPolicy`; fractions are of the capacity unless said otherwise.
struct TinyLfuConfig {
  double initial_window = 0.01;   ///< window share before any adaptation
  double protected_share = 0.80;  ///< protected segment's share of the main space
  double max_window = 1.0;        ///< the window's largest share; 1: all but one weight unit
  WindowAdaptation adaptation = WindowAdaptation::kGhost;
  double sample_factor = 1.0;         ///< requests per adaptation sample, per expected entry
  std::uint64_t min_sample = 10000;   ///< lower bound on the requests per sample
  std::uint32_t max_transfer = 1000;  ///< entries moved between segments per call; an
                                      ///< adjustment's rest follows on the next calls
  unsigned warm_threshold = 6;   ///< candidates this frequent are admitted 1 time in 128 anyway
  unsigned warmup_halvings = 2;  ///< the first sample after the fill is 2^-this of a full one;
                                 ///< each next one doubles, so a bad start is fixed early
  HillClimberConfig climber{};
  GhostClimberConfig ghost{};
  MiniatureConfig miniature{};
  double miniature_step = 0.1;  ///< the most the window moves per sample towards the choice

  /// Caffeine's own settings: hill climbing, samples of ten requests per entry.
  [[nodiscard]] static TinyLfuConfig caffeine() noexcept {
    TinyLfuConfig c;
    c.adaptation = WindowAdaptation::kHillClimber;
    c.sample_factor = 10.0;
    c.min_sample = 0;
    return c;
  }
};

/// Caffeine's W-TinyLFU [1] with an adaptive window [2], weighted.
///
/// New entries enter the window, an LRU queue (initially 1% of the capacity). Entries pushed out
/// of the window become candidates for the main space, a segmented LRU of a probation and a
/// protected segment (80% of main); a hit in probation promotes to protected, whose overflow is
/// demoted back to probation. When the cache is over capacity a candidate is compared with
/// probation's LRU entry (the victim) by their estimated frequencies in a `FrequencySketch`
/// (TinyLFU's admission filter, which also counts misses, so it knows keys the cache does not
/// hold); the less frequent of the two leaves. A warm candidate that loses is still admitted at
/// random, rarely, so an attacker cannot pin a hot victim by flooding colliding hashes [1].
/// The window's size adapts, moving capacity between window and protected segment (and, once
/// protected has none left, probation, up to `max_window`: all but one unit by default, where
/// Caffeine stops at the protected share): a large window behaves like LRU on recency-heavy
/// workloads, a small one like LFU on frequency-heavy ones. By default a `GhostClimber` decides,
/// once per sample of requests (one per entry, at least 10,000), from ghost hits and hits at the
/// margin of each side. Also available: a `WindowMiniature` (small shadow caches at fixed window
/// shares, fed a hash sample of the keys, name the share with the most hits; the window moves
/// towards it by at most `miniature_step` per decision), and Caffeine's `HillClimber` on
/// hit-rate changes (`TinyLfuConfig::caffeine()`). Entries move with the capacity (main's least
/// recent into the window, or the window's least recent into probation), at most `max_transfer` per
/// call so that no call holds the store's lock for long.
///
/// Contract with the store: `victim()` chooses; the store removes the entry and calls
/// `on_remove` before asking again. Entries heavier than a segment still work: they pass through
/// the window straight into probation, and an entry heavier than the capacity is evicted first.
///
/// [1] G. Einziger, R. Friedman, B. Manes, "TinyLFU: A Highly Efficient Cache Admission
///     Policy", ACM ToS 2017.
/// [2] G. Einziger, O. Eytan, R. Friedman, B. Manes, "Adaptive Software Cache Management",
///     Middleware 2018.
class TinyLfuPolicy {
 public:
  static constexpr std::string_view kName = "tinylfu";

  /// Where an entry lives.
  enum class Segment : std::uint8_t { kNone, kWindow, kProbation, kProtected };

  explicit TinyLfuPolicy(Weight capacity) : TinyLfuPolicy(capacity, TinyLfuConfig{}) {}
  TinyLfuPolicy(Weight capacity, const TinyLfuConfig& config);
  ~TinyLfuPolicy();
  TinyLfuPolicy(TinyLfuPolicy&&) noexcept;
  TinyLfuPolicy& operator=(TinyLfuPolicy&&) noexcept;

  /// Room for `n` ids without reallocating (a store that knows its bound).
  void reserve(std::size_t n) {
    links_.nodes.reserve(n);
    nodes_.reserve(n);
  }
  /// Starts loading the sketch block every request of `hash` updates (no lock needed).
  void prefetch(std::uint64_t hash) const noexcept { sketch_.prefetch(hash); }
  void on_insert(EntryId id, std::uint64_t hash, Weight w);
  void on_access(EntryId id, std::uint64_t hash);
  void on_miss(std::uint64_t hash);
  /// A key predicted to be read (warming): one read's credit in the sketch, on top of its
  /// insert's, so that it wins admission against a key read once. Not a request: the window's
  /// samples and the miss that dedupes an insert stay as they are.
  void on_expect(std::uint64_t hash) noexcept { sketch_.increment(hash); }
  void on_update(EntryId id, std::uint64_t hash, Weight w);
  void on_remove(EntryId id);
  [[nodiscard]] std::optional<EntryId> victim();
  void clear();
  [[nodiscard]] Weight weight() const noexcept { return total_; }

  /// Segment of a tracked entry (kNone for an id the policy does not hold).
  [[nodiscard]] Segment segment_of(EntryId id) const noexcept {
    return id < nodes_.size() ? nodes_[id].segment : Segment::kNone;
  }
  /// Current maximum weight of the window.
  [[nodiscard]] Weight window_capacity() const noexcept { return window_max_; }
  /// Current maximum weight of the protected segment.
  [[nodiscard]] Weight protected_capacity() const noexcept { return protected_max_; }
  /// The sketch's estimate for `hash`.
  [[nodiscard]] unsigned frequency(std::uint64_t hash) const noexcept {
    return sketch_.frequency(hash);
  }

 private:
  // 16 bytes; the weights live apart, in `entry_weights_` (no array while all are 1).
  struct Node {
    std::uint64_t hash = 0;
    std::uint32_t stamp = 0;  // clock_ when the entry last reached its list's back
    Segment segment = Segment::kNone;
  };

  void reset_segments() noexcept;
  // always_inline, both: on every hit (and count_request on every miss), and as calls they
  // cost a tenth of a hit's work in saves and restores.
  [[gnu::always_inline]] void count_request(std::uint64_t hash, bool hit);
  void count_miss(std::uint64_t hash);
  [[gnu::always_inline]] void reorder(EntryId id);
  void record_ghost_hit(const Node& n) noexcept;
  [[nodiscard]] bool at_margin(const Node& n, Segment s) const noexcept;
  // always_inline: every insert, eviction and promotion moves an entry with these two.
  [[gnu::always_inline]] void unlink(EntryId id) noexcept;
  [[gnu::always_inline]] void push(EntryId id, Segment segment) noexcept;
  EntryId drain_window() noexcept;
  void demote_protected() noexcept;
  // The per-request check inline; the end of a sample out of line.
  void maybe_climb() {
    if (pending_ != 0) continue_transfer();
    if (config_.adaptation != WindowAdaptation::kFixed && sampled_ >= period_) climb();
  }
  void climb();
  void adopt_miniature() noexcept;
  // A request for the shadows, if the miniature samples its key; behind the ghost's branch, so
  // that the default adaptation pays nothing for it.
  void feed_miniature(std::uint64_t hash) {
    if (miniature_ && miniature_->sampled(hash) && miniature_->request(hash)) adopt_miniature();
  }
  void update_sample() noexcept;
  void continue_transfer() noexcept;
  struct Transfer {
    Weight moved;
    Weight left;
  };
  template <class Pick>
  Transfer transfer(Weight quota, Segment to, Pick pick) noexcept;
  [[nodiscard]] Weight grow_window(Weight quota) noexcept;
  [[nodiscard]] Weight shrink_window(Weight quota) noexcept;
  EntryId decide();
  EntryId take_candidate() noexcept;
  [[nodiscard]] bool admit(EntryId candidate, EntryId victim) noexcept;
  void end_round() noexcept {
    candidate_ = kNoEntry;
    candidates_from_window_ = false;
    decided_ = kNoEntry;
  }
  [[nodiscard]] IdList& list(Segment s) noexcept { return lists_[static_cast<std::size_t>(s)]; }
  [[nodiscard]] IdList& window() noexcept { return list(Segment::kWindow); }
  [[nodiscard]] IdList& probation() noexcept { return list(Segment::kProbation); }
  [[nodiscard]] IdList& protected_list() noexcept { return list(Segment::kProtected); }
  [[nodiscard]] Weight& weight_of(Segment s) noexcept {
    return weights_[static_cast<std::size_t>(s)];
  }

  TinyLfuConfig config_;
  Weight capacity_;
  FrequencySketch sketch_;
  HillClimber climber_;
  GhostClimber ghost_climber_;
  std::unique_ptr<WindowMiniature> miniature_;  // with WindowAdaptation::kMiniature only

  Links links_;
  std::vector<Node> nodes_;
  UnitWeights<> entry_weights_;
  // By Segment, so that moving an entry needs no switch; kNone's list stays empty.
  std::array<IdList, 4> lists_{};
  std::array<Weight, 4> weights_{};
  Weight total_ = 0;
  Weight window_max_ = 0, protected_max_ = 0;
  std::uint64_t count_ = 0;
  std::uint32_t clock_ = 0;  // requests seen, wrapping; orders the stamps of one list

  // Eviction round: the store's victim()/on_remove() pairs after one write. Candidates walk from
  // the first entry the window pushed into probation towards probation's tail, then the window.
  EntryId candidate_ = kNoEntry;
  bool candidates_from_window_ = false;
  EntryId decided_ = kNoEntry;    // chosen by victim(), not yet removed
  EntryId oversized_ = kNoEntry;  // last written entry if heavier than the capacity

  bool decided_from_window_ = false;  // decided_ is a rejected candidate, not a main victim
  std::uint64_t sampled_ = 0;         // requests in the current adaptation sample
  std::uint64_t sample_ = 1;          // requests per sample; follows the sketch's capacity
  unsigned ramp_ = 0;                 // the first samples after the fill are sample_ >> ramp_
  std::uint64_t period_ = 1;          // sample_ >> ramp_: the current sample's length
  std::int64_t pending_ = 0;          // window growth (or shrinkage) still to transfer

  std::uint64_t last_miss_hash_ = 0;  // on_miss then on_insert of one key count once
  bool has_last_miss_ = false;
  std::uint64_t rng_ = 0x2545f4914f6cdd1dULL;
};

static_assert(EvictionPolicy<TinyLfuPolicy>);

}  // namespace stratacache::store
