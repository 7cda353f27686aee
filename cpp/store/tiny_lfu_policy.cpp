#include "store/tiny_lfu_policy.hpp"

#include <algorithm>
#include <cmath>

#include "common/hash.hpp"

namespace stratacache::store {
namespace {

// A byte-weighted cache does not know its entry count up front: start the sketch small and grow
// it with the entries actually held.
constexpr std::uint64_t kInitialSketchEntries = std::uint64_t{1} << 16;

}  // namespace

TinyLfuPolicy::TinyLfuPolicy(Weight capacity, const TinyLfuConfig& config)
    : config_(config),
      capacity_(capacity),
      sketch_(std::min(capacity, kInitialSketchEntries)),
      climber_(capacity, config.climber),
      ghost_climber_(capacity, config.ghost) {
  if (config_.adaptation == WindowAdaptation::kMiniature) {
    miniature_ = std::make_unique<WindowMiniature>(capacity, config_.miniature);
  }
  reset_segments();
  ramp_ = config_.warmup_halvings;
  update_sample();
}

TinyLfuPolicy::~TinyLfuPolicy() = default;
TinyLfuPolicy::TinyLfuPolicy(TinyLfuPolicy&&) noexcept = default;
TinyLfuPolicy& TinyLfuPolicy::operator=(TinyLfuPolicy&&) noexcept = default;

void TinyLfuPolicy::reset_segments() noexcept {
  const auto main = static_cast<Weight>(
      std::floor(static_cast<double>(capacity_) * (1.0 - config_.initial_window)));
  window_max_ = capacity_ - std::min(main, capacity_);
  protected_max_ =
      static_cast<Weight>(static_cast<double>(capacity_ - window_max_) * config_.protected_share);
}

inline void TinyLfuPolicy::unlink(EntryId id) noexcept {
  Node& n = nodes_[id];
  list(n.segment).unlink(links_, id);
  weight_of(n.segment) -= entry_weights_[id];
  n.segment = Segment::kNone;
}

inline void TinyLfuPolicy::push(EntryId id, Segment segment) noexcept {
  Node& n = nodes_[id];
  n.segment = segment;
  n.stamp = clock_;
  list(segment).push_back(links_, id);
  weight_of(segment) += entry_weights_[id];
}

inline void TinyLfuPolicy::count_request(std::uint64_t hash, bool hit) {
  sketch_.increment(hash);
  ++sampled_;
  ++clock_;
  if (hit) {
    climber_.record_hit();
  } else {
    climber_.record_miss();
  }
}

void TinyLfuPolicy::count_miss(std::uint64_t hash) {
  count_request(hash, false);
  if (config_.adaptation == WindowAdaptation::kGhost) {
    ghost_climber_.record_miss(hash);
  } else {
    feed_miniature(hash);
  }
}

void TinyLfuPolicy::on_insert(EntryId id, std::uint64_t hash, Weight w) {
  end_round();
  // A get that missed already counted this key; a blind write counts here.
  if (!has_last_miss_ || last_miss_hash_ != hash) count_miss(hash);
  has_last_miss_ = false;
  links_.ensure(id);
  if (id >= nodes_.size()) nodes_.resize(links_.nodes.size());
  nodes_[id] = Node{hash, clock_, Segment::kNone};
  entry_weights_.set(id, w, links_.nodes.size());
  push(id, Segment::kWindow);
  total_ += w;
  ++count_;
  oversized_ = w > capacity_ ? id : kNoEntry;
  // Grow geometrically (each growth forgets the counts), never past the capacity: with unit
  // weights that is the entry bound, with byte weights more than any entry count needs.
  if (count_ > sketch_.capacity() && sketch_.capacity() < capacity_) {
    sketch_.ensure_capacity(std::min(2 * sketch_.capacity(), capacity_));
    update_sample();
  }
  maybe_climb();
  candidate_ = drain_window();
}

void TinyLfuPolicy::on_access(EntryId id, std::uint64_t hash) {
  end_round();
  count_request(hash, true);
  // Protected hits (most of them) are at neither margin: no call for them.
  const Node& n = nodes_[id];
  if (config_.adaptation == WindowAdaptation::kGhost) {
    if (n.segment != Segment::kProtected) record_ghost_hit(n);
  } else {
    feed_miniature(hash);
  }
  reorder(id);
  maybe_climb();
}

void TinyLfuPolicy::on_miss(std::uint64_t hash) {
  end_round();
  count_miss(hash);
  last_miss_hash_ = hash;
  has_last_miss_ = true;
  maybe_climb();
}

void TinyLfuPolicy::on_update(EntryId id, std::uint64_t hash, Weight w) {
  end_round();
  sketch_.increment(hash);
  // To the back of its segment with its new weight, then as a hit: what an unlink and a push
  // did, in one relink (reorder's move of a window or protected entry is then a no-op).
  Node& n = nodes_[id];
  const Segment s = n.segment;
  const Weight old = entry_weights_[id];
  total_ = total_ - old + w;
  weight_of(s) = weight_of(s) - old + w;
  entry_weights_.set(id, w, links_.nodes.size());
  list(s).move_to_back(links_, id);
  n.stamp = clock_;
  reorder(id);
  demote_protected();
  oversized_ = w > capacity_ ? id : kNoEntry;
  candidate_ = drain_window();
}

void TinyLfuPolicy::on_remove(EntryId id) {
  if (id == decided_) {
    if (config_.adaptation == WindowAdaptation::kGhost) {
      ghost_climber_.record_eviction(nodes_[id].hash, decided_from_window_, count_);
    }
    decided_ = kNoEntry;  // the round goes on with the candidate cursor as it is
  } else {
    end_round();
  }
  if (id == oversized_) oversized_ = kNoEntry;
  if (id == candidate_) candidate_ = links_.nodes[id].next;
  total_ -= entry_weights_[id];
  unlink(id);
  --count_;
}

void TinyLfuPolicy::record_ghost_hit(const Node& n) noexcept {
  if (n.segment == Segment::kWindow && at_margin(n, Segment::kWindow)) {
    ghost_climber_.record_window_hit();
  } else if (n.segment == Segment::kProbation && at_margin(n, Segment::kProbation)) {
    ghost_climber_.record_probation_hit();
  }
}

// Whether `n` is among the `band` entries at the front (least recent end) of its list, the ones
// a shrink of that side by `band` would give up. A list is ordered by stamp, so the position is
// estimated from the stamp's place between the front's stamp and now, as if the stamps were
// evenly spread; exact for a list no longer than the band.
bool TinyLfuPolicy::at_margin(const Node& n, Segment s) const noexcept {
  const IdList& l = lists_[static_cast<std::size_t>(s)];
  const std::uint64_t band = ghost_climber_.band(count_);
  const std::uint64_t entries = l.size();
  if (entries <= band) return true;
  const std::uint32_t front = nodes_[l.head()].stamp;
  const std::uint64_t span = static_cast<std::uint32_t>(clock_ - front);
  const std::uint64_t offset = static_cast<std::uint32_t>(n.stamp - front);
  return offset * entries <= band * span;
}

inline void TinyLfuPolicy::reorder(EntryId id) {
  Node& n = nodes_[id];
  switch (n.segment) {
    case Segment::kWindow:
      window().move_to_back(links_, id);
      n.stamp = clock_;
      break;
    case Segment::kProbation:
      // An entry heavier than the protected segment could never stay there.
      if (entry_weights_[id] > protected_max_) {
        probation().move_to_back(links_, id);
      } else {
        unlink(id);
        push(id, Segment::kProtected);
        demote_protected();
      }
      break;
    case Segment::kProtected:
      protected_list().move_to_back(links_, id);
      break;
    case Segment::kNone:
      break;
  }
}

EntryId TinyLfuPolicy::drain_window() noexcept {
  EntryId first = kNoEntry;
  while (weight_of(Segment::kWindow) > window_max_ && !window().empty()) {
    const EntryId id = window().head();
    unlink(id);
    push(id, Segment::kProbation);
    if (first == kNoEntry) first = id;
  }
  return first;
}

void TinyLfuPolicy::demote_protected() noexcept {
  while (weight_of(Segment::kProtected) > protected_max_ && !protected_list().empty()) {
    const EntryId id = protected_list().head();
    unlink(id);
    push(id, Segment::kProbation);
  }
}

void TinyLfuPolicy::update_sample() noexcept {
  sample_ = std::max<std::uint64_t>(
      {config_.min_sample, 1,
       static_cast<std::uint64_t>(config_.sample_factor *
                                  static_cast<double>(sketch_.capacity()))});
  period_ = std::max<std::uint64_t>(1, sample_ >> ramp_);
}

void TinyLfuPolicy::climb() {
  sampled_ = 0;
  // Samples of a cache that is still filling say nothing about the window's size.
  if (total_ < capacity_ / 2) {
    climber_.reset();
    ghost_climber_.reset();
    return;
  }
  if (ramp_ > 0) {
    --ramp_;
    update_sample();
  }
  if (config_.adaptation == WindowAdaptation::kHillClimber) {
    pending_ = climber_.adjust();
  } else if (miniature_) {
    return;  // decides on its own period, in adopt_miniature
  } else {
    pending_ = ghost_climber_.adjust(window().size(), probation().size(), count_);
  }
  const Weight before = window_max_;
  demote_protected();
  continue_transfer();
  // A step that moved nothing hit a bound; "no worse, keep going" would then push against it
  // for good, so the hill climber turns around.
  if (config_.adaptation == WindowAdaptation::kHillClimber && pending_ != 0 &&
      window_max_ == before) {
    climber_.reverse();
  }
}

// Moves the window towards the share the shadows chose, by at most `miniature_step`.
void TinyLfuPolicy::adopt_miniature() noexcept {
  // A cache that is still filling says nothing about the window's size.
  const bool filling = total_ < capacity_ / 2;
  const double share = std::min(miniature_->choose(filling), config_.max_window);
  if (filling) return;
  const double cap = static_cast<double>(capacity_);
  const double move = std::clamp(share * cap - static_cast<double>(window_max_),
                                 -config_.miniature_step * cap, config_.miniature_step * cap);
  pending_ = static_cast<std::int64_t>(move);
  demote_protected();
  continue_transfer();
}

void TinyLfuPolicy::continue_transfer() noexcept {
  if (pending_ > 0) {
    pending_ = static_cast<std::int64_t>(grow_window(static_cast<Weight>(pending_)));
  } else if (pending_ < 0) {
    pending_ = -static_cast<std::int64_t>(shrink_window(static_cast<Weight>(-pending_)));
  }
}

// Moves the entries `pick` names into `to` while they fit `quota`, at most `max_transfer` of
// them. Returns the weight moved and the quota left for the next call, or 0 when nothing more
// can move (the rest of the quota is then dropped, as in Caffeine).
template <class Pick>
TinyLfuPolicy::Transfer TinyLfuPolicy::transfer(Weight quota, Segment to, Pick pick) noexcept {
  Weight moved = 0;
  bool capped = true;
  for (std::uint32_t i = 0; i < config_.max_transfer && capped; ++i) {
    const EntryId id = pick(quota);
    if (id == kNoEntry || entry_weights_[id] > quota) {
      capped = false;
      break;
    }
    moved += entry_weights_[id];
    quota -= entry_weights_[id];
    unlink(id);
    push(id, to);
    capped = quota > 0;
  }
  return {moved, capped ? quota : 0};
}

Weight TinyLfuPolicy::grow_window(Weight quota) noexcept {
  // Past the protected segment's space the window takes probation's too: on a recency-bound
  // workload the cache can then become an LRU with a one-entry main, which a window capped at
  // the protected share (Caffeine's bound, 80%) cannot.
  const auto most = static_cast<Weight>(static_cast<double>(capacity_) * config_.max_window);
  const Weight bound = std::min(most, capacity_ - std::min<Weight>(capacity_, 1));
  quota = std::min(quota, bound - std::min(bound, window_max_));
  // Main's least recent entries come along with the space, so main stays full.
  const Transfer t = transfer(quota, Segment::kWindow, [this](Weight left) {
    const EntryId id = probation().head();
    return id == kNoEntry || entry_weights_[id] > left ? protected_list().head() : id;
  });
  protected_max_ -= std::min(t.moved, protected_max_);
  window_max_ += t.moved;
  demote_protected();
  return t.left;
}

Weight TinyLfuPolicy::shrink_window(Weight quota) noexcept {
  if (window_max_ <= 1) return 0;
  quota = std::min(quota, window_max_ - 1);
  const Transfer t =
      transfer(quota, Segment::kProbation, [this](Weight) { return window().head(); });
  window_max_ -= t.moved;
  protected_max_ += t.moved;
  return t.left;
}

std::optional<EntryId> TinyLfuPolicy::victim() {
  if (count_ == 0) return std::nullopt;
  // An entry heavier than the whole capacity can never stay: it goes before anyone else.
  if (decided_ == kNoEntry) {
    decided_from_window_ = false;
    decided_ = oversized_ != kNoEntry ? oversized_ : decide();
  }
  return decided_;
}

EntryId TinyLfuPolicy::take_candidate() noexcept {
  decided_from_window_ = true;
  const EntryId id = candidate_;
  candidate_ = links_.nodes[id].next;
  return id;
}

EntryId TinyLfuPolicy::decide() {
  // Once probation's candidates are used up, the window's LRU entries compete too.
  if (candidate_ == kNoEntry && !candidates_from_window_) {
    candidate_ = window().head();
    candidates_from_window_ = true;
  }
  const EntryId victim = probation().head();
  if (candidate_ == kNoEntry && victim == kNoEntry) {
    return !protected_list().empty() ? protected_list().head() : window().head();
  }
  if (victim == kNoEntry) return take_candidate();
  if (candidate_ == kNoEntry) return victim;
  if (candidate_ == victim) {
    candidate_ = kNoEntry;
    return victim;
  }
  if (entry_weights_[candidate_] > capacity_) return take_candidate();
  if (admit(candidate_, victim)) {
    candidate_ = links_.nodes[candidate_].next;
    return victim;
  }
  return take_candidate();
}

bool TinyLfuPolicy::admit(EntryId candidate, EntryId victim) noexcept {
  const unsigned c = sketch_.frequency(nodes_[candidate].hash);
  const unsigned v = sketch_.frequency(nodes_[victim].hash);
  if (c > v) return true;
  if (config_.warm_threshold == 0 || c < config_.warm_threshold) return false;
  // Deterministic per sequence: a fixed-seed generator, advanced only here.
  rng_ += 0x9e3779b97f4a7c15ULL;
  return (mix64(rng_) & 127U) == 0;
}

void TinyLfuPolicy::clear() {
  for (IdList& l : lists_) l.reset();
  for (Node& n : nodes_) n.segment = Segment::kNone;
  weights_.fill(0);
  total_ = 0;
  count_ = 0;
  sketch_.clear();
  climber_.reset();
  ghost_climber_.clear();
  if (miniature_) miniature_->clear();
  sampled_ = 0;
  pending_ = 0;
  ramp_ = config_.warmup_halvings;
  update_sample();
  reset_segments();
  end_round();
  oversized_ = kNoEntry;
  has_last_miss_ = false;
}

}  // namespace stratacache::store
