// Per-key access features for the predictor: a bounded table of tracked keys (the least
// recently seen key leaves when a new one arrives) and the fixed-width feature vector of a key.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "predict/key_map.hpp"
#include "predict/slot_index.hpp"
#include "predict/timed_workload.hpp"
#include "store/name_arena.hpp"

namespace stratacache::predict {

/// Names of the feature vector's columns, in order.
inline constexpr std::array<std::string_view, 11> kFeatureNames = {
    "log_recency",  "log_freq_short", "log_freq_long",     "log_gap_mean",
    "log_gap_std",  "has_gaps",       "overdue",           "log_since_write",
    "log_ttl_left", "log_reads",      "log_namespace_rate"};
inline constexpr std::size_t kFeatureCount = kFeatureNames.size();
using FeatureRow = std::array<double, kFeatureCount>;

/// Options of a FeatureTable.
struct FeatureOptions {
  std::size_t capacity = 100'000;  ///< tracked keys at most
  double half_life_short = 60;     ///< seconds, of the short decayed frequency
  double half_life_long = 3600;    ///< seconds, of the long decayed frequency
  bool namespace_aggregate = false;
};

/// What the table knows of one key, in 56 bytes. Inter-arrival statistics are Welford's
/// running mean and sum of squared deviations of log(gap), so heavy-tailed gaps do not swamp
/// them. Times are the table's ticks (FeatureTable::time_of); decayed counts and gap statistics
/// are float32, ample for features that go through a log.
struct KeyStats {
  std::int64_t key = 0;
  std::uint32_t last_read = 0;   ///< ticks; while reads == 0, when the key was first seen
  std::uint32_t last_write = 0;  ///< ticks; while writes == 0, when the key was first seen
  float freq_short = 0;          ///< decayed read counts as of `last_read`
  float freq_long = 0;
  float gap_mean = 0;
  float gap_m2 = 0;
  std::uint32_t reads = 0;
  std::uint32_t writes = 0;
  std::uint32_t prev = 0;  ///< recency list links (slot indices)
  std::uint32_t next = 0;
  std::uint32_t name = 0;  ///< the key's name in the table's arena (NameArena::kNone: none)
  std::uint16_t ns = 0;

  [[nodiscard]] std::uint32_t gaps() const noexcept { return reads > 0 ? reads - 1 : 0; }
  /// Variance of log(gap); 0 below two gaps.
  [[nodiscard]] double gap_variance() const noexcept {
    return gaps() > 1 ? static_cast<double>(gap_m2) / (gaps() - 1) : 0.0;
  }
};
static_assert(sizeof(KeyStats) == 56);

/// Bounded table of per-key statistics, and of the names of the keys it tracks (kept once, in
/// an arena; a key's hash is its `key`). Times are stored as 32-bit millisecond ticks from a
/// base that moves forward whenever a time would pass 2^31 ticks (24.8 days), keeping at least
/// 2^30 ticks (12.4 days) behind the newest time, so any span of time fits; a time older than
/// the base reads as the base (a gap longer than 12.4 days may read as shorter, but not below
/// 12.4 days). Not thread-safe: one owner feeds and reads it.
class FeatureTable {
 public:
  explicit FeatureTable(const FeatureOptions& options);

  /// Records one event; events arrive in time order.
  void record(const Event& event);
  /// Tells the table that `key` is cached until `expires_at` (0: not cached). Untracked keys
  /// are ignored.
  void set_expiry(std::int64_t key, double expires_at) noexcept;

  /// The statistics of `key`, or nullptr if it is not tracked.
  [[nodiscard]] const KeyStats* find(std::int64_t key) const noexcept;
  /// True if `key` is tracked and was read after time `t` (to the tick).
  [[nodiscard]] bool read_after(std::int64_t key, double t) const noexcept;
  /// Seconds (as given to `record`) of a time in ticks.
  [[nodiscard]] double time_of(std::uint32_t ticks) const noexcept {
    return base_ + static_cast<double>(ticks) * kTick;
  }

  /// Keeps `name` for `key` if it is tracked and has none yet; returns whether it was kept.
  /// Throws std::bad_alloc.
  bool set_name(std::int64_t key, const store::NameView& name);
  /// The name kept for `key`, if any (valid until the next non-const call).
  [[nodiscard]] std::optional<store::NameView> name(std::int64_t key) const noexcept;
  /// Tracked keys with a name.
  [[nodiscard]] std::size_t named() const noexcept { return named_; }
  /// The feature vector of `key` at time `now` (an untracked key gets the vector of a key
  /// never seen).
  [[nodiscard]] FeatureRow features(std::int64_t key, double now) const noexcept;
  /// Expected seconds from `now` to the key's next read, from its inter-arrival statistics
  /// (log-normal mean); for an overdue key, as long again as it has been idle. nullopt below
  /// one observed gap.
  [[nodiscard]] std::optional<double> expected_next_read(std::int64_t key, double now) const;
  /// Mean seconds between two reads of `key` (log-normal mean of its gaps); nullopt below one
  /// observed gap or for an untracked key.
  [[nodiscard]] std::optional<double> mean_gap(std::int64_t key) const;

  /// The `i`-th tracked key in storage order (i < size()), for uniform sampling.
  [[nodiscard]] std::int64_t key_at(std::size_t i) const noexcept { return slots_[i].key; }
  /// Tracked keys, least recently seen first.
  [[nodiscard]] std::vector<std::int64_t> keys() const;
  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return options_.capacity; }
  [[nodiscard]] const FeatureOptions& options() const noexcept { return options_; }
  /// Heap bytes of the statistics: slot and index capacity, expiries, namespace rates.
  [[nodiscard]] std::size_t bytes() const noexcept;
  /// Heap bytes of the name arena.
  [[nodiscard]] std::size_t name_bytes() const noexcept { return names_.bytes(); }
  /// bytes() per tracked key (per one, while empty).
  [[nodiscard]] double bytes_per_key() const noexcept;

 private:
  struct NamespaceRate {
    double freq = 0;  ///< decayed read count (long half-life) as of `at`
    double at = 0;
    std::uint64_t keys = 0;
  };

  static constexpr double kTick = 1e-3;  ///< seconds

  [[nodiscard]] FeatureRow row_of(const KeyStats& s, double last_read, double last_write,
                                  double expires_at, double now) const noexcept;
  [[nodiscard]] std::uint32_t find_slot(std::int64_t key, std::uint64_t hash) const noexcept {
    return index_.find(hash, [&](std::uint32_t slot) { return slots_[slot].key == key; });
  }
  /// `t` in ticks, first moving the base forward if `t` would pass 2^31 ticks.
  std::uint32_t ticks_for(double t) noexcept;
  [[nodiscard]] std::uint32_t ticks_of(double t) const noexcept;
  void rebase(std::uint32_t by) noexcept;
  std::uint32_t slot_for(std::int64_t key, double now, std::uint16_t ns);
  std::uint32_t new_slot();
  void compact_names();
  void unlink(std::uint32_t slot) noexcept;
  void push_back(std::uint32_t slot) noexcept;
  void read_namespace(std::uint16_t ns, double now);

  FeatureOptions options_;
  SlotIndex index_;
  std::vector<KeyStats> slots_;
  std::vector<std::uint32_t> expiry_;  ///< ticks, by slot; empty until `set_expiry` is called
  store::NameArena names_;
  std::size_t named_ = 0;
  double base_ = 0;  ///< seconds of tick 0
  bool based_ = false;
  std::uint32_t head_ = SlotIndex::kAbsent;  ///< least recently seen
  std::uint32_t tail_ = SlotIndex::kAbsent;
  std::vector<NamespaceRate> namespaces_;
};

}  // namespace stratacache::predict
