#include "predict/features.hpp"

#include <algorithm>
#include <cmath>
#include <new>
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
// A time past kRebaseAt ticks moves the base forward by kRebaseBy ticks (or more).
constexpr std::uint32_t kRebaseAt = std::uint32_t{1} << 31;
constexpr std::uint32_t kRebaseBy = std::uint32_t{1} << 30;
constexpr std::uint32_t kAbsent = SlotIndex::kAbsent;

double decay(double value, double elapsed, double half_life) noexcept {
  return value * std::exp2(-std::max(0.0, elapsed) / half_life);
}

}  // namespace

FeatureTable::FeatureTable(const FeatureOptions& options)
    : options_(options), index_(std::min<std::size_t>(options.capacity, 1024)) {
  if (options.capacity == 0 || options.capacity >= kAbsent) {
    throw Error(ErrorCode::kInvalidConfig, "features: capacity must be in [1, 2^32 - 2]");
  }
  if (!(options.half_life_short > 0) || !(options.half_life_long > 0) ||
      !std::isfinite(options.half_life_short) || !std::isfinite(options.half_life_long)) {
    throw Error(ErrorCode::kInvalidConfig, "features: half-lives must be > 0 and finite");
  }
}

std::uint32_t FeatureTable::ticks_of(double t) const noexcept {
  const double x = std::round((t - base_) / kTick);
  if (!(x > 0)) return 0;
  return x >= 4294967295.0 ? std::uint32_t{4294967295U} : static_cast<std::uint32_t>(x);
}

std::uint32_t FeatureTable::ticks_for(double t) noexcept {
  if (!based_) {
    base_ = t;
    based_ = true;
  }
  const double ahead = std::round((t - base_) / kTick);
  if (ahead >= kRebaseAt) {
    const double by = std::max<double>(kRebaseBy, ahead - kRebaseBy);
    rebase(by >= 4294967295.0 ? std::uint32_t{4294967295U} : static_cast<std::uint32_t>(by));
  }
  return ticks_of(t);
}

void FeatureTable::rebase(std::uint32_t by) noexcept {
  base_ += static_cast<double>(by) * kTick;
  const auto back = [by](std::uint32_t& t) { t = t > by ? t - by : 0; };
  for (KeyStats& s : slots_) {
    back(s.last_read);
    back(s.last_write);
  }
  for (std::uint32_t& t : expiry_) back(t);
}

void FeatureTable::record(const Event& event) {
  const std::uint32_t now = ticks_for(event.time);
  KeyStats& s = slots_[slot_for(event.key, event.time, event.ns)];
  if (event.op == Op::kSet) {
    ++s.writes;
    s.last_write = now;
    return;
  }
  if (s.reads > 0) {
    const double elapsed = event.time - time_of(s.last_read);
    const double x = std::log(std::max(elapsed, kMinGap));
    double mean = s.gap_mean;
    const double delta = x - mean;
    mean += delta / (s.gaps() + 1);
    s.gap_m2 = static_cast<float>(s.gap_m2 + delta * (x - mean));
    s.gap_mean = static_cast<float>(mean);
    s.freq_short = static_cast<float>(decay(s.freq_short, elapsed, options_.half_life_short));
    s.freq_long = static_cast<float>(decay(s.freq_long, elapsed, options_.half_life_long));
  }
  s.freq_short += 1;
  s.freq_long += 1;
  ++s.reads;
  s.last_read = now;
  if (options_.namespace_aggregate) read_namespace(s.ns, event.time);
}

void FeatureTable::set_expiry(std::int64_t key, double expires_at) noexcept {
  const std::uint32_t slot = find_slot(key, KeyMap::hash_of(key));
  if (slot == kAbsent) return;
  try {
    if (expiry_.size() < slots_.size()) expiry_.resize(slots_.capacity(), 0);
  } catch (const std::bad_alloc&) {
    return;  // the feature stays 0: no expiry known
  }
  expiry_[slot] = ticks_of(expires_at);
}

const KeyStats* FeatureTable::find(std::int64_t key) const noexcept {
  const std::uint32_t slot = find_slot(key, KeyMap::hash_of(key));
  return slot == kAbsent ? nullptr : &slots_[slot];
}

bool FeatureTable::read_after(std::int64_t key, double t) const noexcept {
  const KeyStats* s = find(key);
  return s != nullptr && s->reads > 0 && s->last_read > ticks_of(t);
}

FeatureRow FeatureTable::features(std::int64_t key, double now) const noexcept {
  const std::uint32_t slot = find_slot(key, KeyMap::hash_of(key));
  if (slot != kAbsent) {
    const KeyStats& s = slots_[slot];
    const double expires = slot < expiry_.size() ? time_of(expiry_[slot]) : 0.0;
    return row_of(s, time_of(s.last_read), time_of(s.last_write), expires, now);
  }
  KeyStats unseen;
  unseen.key = key;
  const double first_seen = now - options_.half_life_long;
  return row_of(unseen, first_seen, first_seen, 0.0, now);
}

FeatureRow FeatureTable::row_of(const KeyStats& s, double last_read, double last_write,
                                double expires_at, double now) const noexcept {
  FeatureRow f{};
  // While reads (writes) == 0, last_read (last_write) holds the time the key was first seen.
  const double idle = std::max(0.0, now - last_read);
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
  f[7] = std::log1p(std::max(0.0, now - last_write));
  f[8] = std::log1p(std::max(0.0, expires_at - now));
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
  const double idle = std::max(0.0, now - time_of(s->last_read));
  return idle <= gap ? gap - idle : idle;
}

std::vector<std::int64_t> FeatureTable::keys() const {
  std::vector<std::int64_t> out;
  out.reserve(size());
  for (std::uint32_t i = head_; i != kAbsent; i = slots_[i].next) out.push_back(slots_[i].key);
  return out;
}

std::size_t FeatureTable::bytes() const noexcept {
  return slots_.capacity() * sizeof(KeyStats) + index_.bytes() +
         expiry_.capacity() * sizeof(expiry_[0]) + namespaces_.capacity() * sizeof(NamespaceRate);
}

double FeatureTable::bytes_per_key() const noexcept {
  return static_cast<double>(bytes()) / static_cast<double>(std::max<std::size_t>(size(), 1));
}

std::uint32_t FeatureTable::slot_for(std::int64_t key, double now, std::uint16_t ns) {
  const std::uint64_t hash = KeyMap::hash_of(key);
  std::uint32_t slot = find_slot(key, hash);
  if (slot != kAbsent) {
    unlink(slot);
    push_back(slot);
    return slot;
  }
  if (index_.size() >= options_.capacity) {
    slot = head_;
    const KeyStats& gone = slots_[slot];
    if (options_.namespace_aggregate && gone.ns < namespaces_.size()) --namespaces_[gone.ns].keys;
    if (gone.name != store::NameArena::kNone) {
      names_.release(gone.name);
      --named_;
    }
    index_.erase(KeyMap::hash_of(gone.key), slot);
    unlink(slot);
  } else {
    slot = new_slot();
  }
  KeyStats& s = slots_[slot];
  s = KeyStats{};
  s.key = key;
  s.last_read = s.last_write = ticks_of(now);  // first seen
  s.ns = ns;
  if (slot < expiry_.size()) expiry_[slot] = 0;
  index_.insert(hash, slot);
  push_back(slot);
  if (options_.namespace_aggregate) {
    if (ns >= namespaces_.size()) namespaces_.resize(std::size_t{ns} + 1);
    ++namespaces_[ns].keys;
  }
  return slot;
}

std::uint32_t FeatureTable::new_slot() {
  // Grows by half, never past the capacity: the slots' capacity is what bytes() counts, and a
  // full table then holds exactly `capacity` of them.
  if (slots_.size() == slots_.capacity()) {
    const std::size_t grown = std::max<std::size_t>(16, slots_.capacity() + slots_.capacity() / 2);
    slots_.reserve(std::min(grown, options_.capacity));
  }
  slots_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

void FeatureTable::unlink(std::uint32_t slot) noexcept {
  KeyStats& s = slots_[slot];
  (s.prev == kAbsent ? head_ : slots_[s.prev].next) = s.next;
  (s.next == kAbsent ? tail_ : slots_[s.next].prev) = s.prev;
}

void FeatureTable::push_back(std::uint32_t slot) noexcept {
  KeyStats& s = slots_[slot];
  s.prev = tail_;
  s.next = kAbsent;
  (tail_ == kAbsent ? head_ : slots_[tail_].next) = slot;
  tail_ = slot;
}

void FeatureTable::read_namespace(std::uint16_t ns, double now) {
  NamespaceRate& n = namespaces_[ns];
  n.freq = decay(n.freq, now - n.at, options_.half_life_long) + 1;
  n.at = now;
}

bool FeatureTable::set_name(std::int64_t key, const store::NameView& name) {
  const std::uint32_t slot = find_slot(key, KeyMap::hash_of(key));
  if (slot == kAbsent || slots_[slot].name != store::NameArena::kNone) return false;
  if (names_.wants_compaction()) compact_names();
  const std::string_view full = name.full;
  const std::uint32_t ref =
      names_.add(full.substr(0, name.prefix_size), full.substr(name.prefix_size));
  if (ref == store::NameArena::kNone) return false;
  slots_[slot].name = ref;
  ++named_;
  return true;
}

std::optional<store::NameView> FeatureTable::name(std::int64_t key) const noexcept {
  const std::uint32_t slot = find_slot(key, KeyMap::hash_of(key));
  if (slot == kAbsent || slots_[slot].name == store::NameArena::kNone) return std::nullopt;
  return names_.get(slots_[slot].name);
}

void FeatureTable::compact_names() {
  // Live names into a fresh arena, in slot order; released ones are left behind.
  // New references are set only once every copy succeeded (copying may throw).
  store::NameArena fresh;
  std::vector<std::uint32_t> refs(slots_.size(), store::NameArena::kNone);
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].name != store::NameArena::kNone)
      refs[i] = fresh.copy_from(names_, slots_[i].name);
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) slots_[i].name = refs[i];
  names_ = std::move(fresh);
}

}  // namespace stratacache::predict
