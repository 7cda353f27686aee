#include "predict/features.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

// Gaps below a millisecond are one burst; flooring them keeps log(gap) finite.
constexpr double kMinGap = 1e-3;
// Added to the gap's standard deviation in `overdue`, so a perfectly regular key does not
// divide by zero and one late read does not look like an infinite surprise.
constexpr double kOverdueSlack = 0.5;
constexpr double kOverdueClamp = 5;

double decay(double value, double elapsed, double half_life) noexcept {
  return value * std::exp2(-std::max(0.0, elapsed) / half_life);
}

}  // namespace

FeatureTable::FeatureTable(const FeatureOptions& options)
    : options_(options), map_(std::min<std::size_t>(options.capacity, 1024)) {
  if (options.capacity == 0 || options.capacity >= KeyMap::kAbsent) {
    throw Error(ErrorCode::kInvalidConfig, "features: capacity must be in [1, 2^32 - 2]");
  }
  if (!(options.half_life_short > 0) || !(options.half_life_long > 0) ||
      !std::isfinite(options.half_life_short) || !std::isfinite(options.half_life_long)) {
    throw Error(ErrorCode::kInvalidConfig, "features: half-lives must be > 0 and finite");
  }
}

void FeatureTable::record(const Event& event) {
  KeyStats& s = slots_[slot_for(event.key, event.time, event.ns)];
  if (event.op == Op::kSet) {
    ++s.writes;
    s.last_write = event.time;
    return;
  }
  if (s.reads > 0) {
    const double elapsed = event.time - s.last_read;
    const double x = std::log(std::max(elapsed, kMinGap));
    const double delta = x - s.gap_mean;
    s.gap_mean += delta / (s.gaps() + 1);
    s.gap_m2 += delta * (x - s.gap_mean);
    s.freq_short = decay(s.freq_short, elapsed, options_.half_life_short);
    s.freq_long = decay(s.freq_long, elapsed, options_.half_life_long);
  }
  s.freq_short += 1;
  s.freq_long += 1;
  ++s.reads;
  s.last_read = event.time;
  if (options_.namespace_aggregate) read_namespace(s.ns, event.time);
}

void FeatureTable::set_expiry(std::int64_t key, double expires_at) noexcept {
  const std::uint32_t slot = map_.find(key, KeyMap::hash_of(key));
  if (slot != KeyMap::kAbsent) slots_[slot].expires_at = expires_at;
}

const KeyStats* FeatureTable::find(std::int64_t key) const noexcept {
  const std::uint32_t slot = map_.find(key, KeyMap::hash_of(key));
  return slot == KeyMap::kAbsent ? nullptr : &slots_[slot];
}

FeatureRow FeatureTable::features(std::int64_t key, double now) const noexcept {
  if (const KeyStats* s = find(key)) return row_of(*s, now);
  KeyStats unseen;
  unseen.key = key;
  unseen.first_seen = now - options_.half_life_long;
  return row_of(unseen, now);
}

FeatureRow FeatureTable::row_of(const KeyStats& s, double now) const noexcept {
  FeatureRow f{};
  const double idle = std::max(0.0, now - (s.reads > 0 ? s.last_read : s.first_seen));
  f[0] = std::log1p(idle);
  if (s.reads > 0) {
    f[1] = std::log1p(decay(s.freq_short, idle, options_.half_life_short));
    f[2] = std::log1p(decay(s.freq_long, idle, options_.half_life_long));
  }
  if (s.gaps() > 0) {
    const double sd = std::sqrt(s.gap_variance());
    f[3] = s.gap_mean;
    f[4] = sd;
    f[5] = 1;
    const double z = (std::log(std::max(idle, kMinGap)) - s.gap_mean) / (sd + kOverdueSlack);
    f[6] = std::clamp(z, -kOverdueClamp, kOverdueClamp);
  }
  f[7] = std::log1p(std::max(0.0, now - (s.writes > 0 ? s.last_write : s.first_seen)));
  f[8] = std::log1p(std::max(0.0, s.expires_at - now));
  f[9] = std::log1p(static_cast<double>(s.reads));
  if (options_.namespace_aggregate && s.ns < namespaces_.size()) {
    const NamespaceRate& n = namespaces_[s.ns];
    const double per_key = decay(n.freq, now - n.at, options_.half_life_long) /
                           static_cast<double>(std::max<std::uint64_t>(n.keys, 1));
    f[10] = std::log1p(per_key);
  }
  return f;
}

std::optional<double> FeatureTable::mean_gap(std::int64_t key) const {
  const KeyStats* s = find(key);
  if (s == nullptr || s->gaps() == 0) return std::nullopt;
  return std::exp(s->gap_mean + s->gap_variance() / 2);
}

std::optional<double> FeatureTable::expected_next_read(std::int64_t key, double now) const {
  const KeyStats* s = find(key);
  if (s == nullptr || s->gaps() == 0) return std::nullopt;
  const double gap = *mean_gap(key);
  const double idle = std::max(0.0, now - s->last_read);
  return idle <= gap ? gap - idle : idle;
}

std::vector<std::int64_t> FeatureTable::keys() const {
  std::vector<std::int64_t> out;
  out.reserve(size());
  for (std::uint32_t i = head_; i != KeyMap::kAbsent; i = slots_[i].next) {
    out.push_back(slots_[i].key);
  }
  return out;
}

double FeatureTable::bytes_per_key() const noexcept {
  // KeyMap keeps its load factor at most 1/2 with power-of-two sizes and 16-byte slots.
  const auto n = std::max<std::size_t>(size(), 1);
  const auto index_slots = std::bit_ceil(std::max<std::size_t>(2 * n + 2, 16));
  return static_cast<double>(sizeof(KeyStats)) +
         16.0 * static_cast<double>(index_slots) / static_cast<double>(n);
}

std::uint32_t FeatureTable::slot_for(std::int64_t key, double now, std::uint16_t ns) {
  const std::uint64_t hash = KeyMap::hash_of(key);
  std::uint32_t slot = map_.find(key, hash);
  if (slot != KeyMap::kAbsent) {
    unlink(slot);
    push_back(slot);
    return slot;
  }
  if (map_.size() >= options_.capacity) {
    slot = head_;
    const KeyStats& gone = slots_[slot];
    if (options_.namespace_aggregate && gone.ns < namespaces_.size()) --namespaces_[gone.ns].keys;
    map_.erase(gone.key, KeyMap::hash_of(gone.key));
    unlink(slot);
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  KeyStats& s = slots_[slot];
  s = KeyStats{};
  s.key = key;
  s.first_seen = now;
  s.ns = ns;
  map_.insert(key, hash, slot);
  push_back(slot);
  if (options_.namespace_aggregate) {
    if (ns >= namespaces_.size()) namespaces_.resize(std::size_t{ns} + 1);
    ++namespaces_[ns].keys;
  }
  return slot;
}

void FeatureTable::unlink(std::uint32_t slot) noexcept {
  KeyStats& s = slots_[slot];
  (s.prev == KeyMap::kAbsent ? head_ : slots_[s.prev].next) = s.next;
  (s.next == KeyMap::kAbsent ? tail_ : slots_[s.next].prev) = s.prev;
}

void FeatureTable::push_back(std::uint32_t slot) noexcept {
  KeyStats& s = slots_[slot];
  s.prev = tail_;
  s.next = KeyMap::kAbsent;
  (tail_ == KeyMap::kAbsent ? head_ : slots_[tail_].next) = slot;
  tail_ = slot;
}

void FeatureTable::read_namespace(std::uint16_t ns, double now) {
  NamespaceRate& n = namespaces_[ns];
  n.freq = decay(n.freq, now - n.at, options_.half_life_long) + 1;
  n.at = now;
}

}  // namespace stratacache::predict
