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
#include "predict/timed_workload.hpp"

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

/// What the table knows of one key. Inter-arrival statistics are Welford's running mean and
/// sum of squared deviations of log(gap), so heavy-tailed gaps do not swamp them.
struct KeyStats {
  std::int64_t key = 0;
  double first_seen = 0;
  double last_read = -1;   ///< < first_seen: never read
  double last_write = -1;  ///< < first_seen: never written
  double expires_at = 0;   ///< 0: not cached (as told by set_expiry)
  double freq_short = 0;   ///< decayed read counts as of `last_read`
  double freq_long = 0;
  double gap_mean = 0;
  double gap_m2 = 0;
  std::uint32_t reads = 0;
  std::uint32_t writes = 0;
  std::uint32_t prev = 0;  ///< recency list links (slot indices)
  std::uint32_t next = 0;
  std::uint16_t ns = 0;

  [[nodiscard]] std::uint32_t gaps() const noexcept { return reads > 0 ? reads - 1 : 0; }
  /// Variance of log(gap); 0 below two gaps.
  [[nodiscard]] double gap_variance() const noexcept {
    return gaps() > 1 ? gap_m2 / (gaps() - 1) : 0.0;
  }
};

/// Bounded table of per-key statistics. Not thread-safe: one owner feeds and reads it.
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
  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return options_.capacity; }
  [[nodiscard]] const FeatureOptions& options() const noexcept { return options_; }
  /// Bytes the table holds per tracked key when full (slot plus its share of the index).
  [[nodiscard]] double bytes_per_key() const noexcept;

 private:
  struct NamespaceRate {
    double freq = 0;  ///< decayed read count (long half-life) as of `at`
    double at = 0;
    std::uint64_t keys = 0;
  };

  [[nodiscard]] FeatureRow row_of(const KeyStats& s, double now) const noexcept;
  std::uint32_t slot_for(std::int64_t key, double now, std::uint16_t ns);
  void unlink(std::uint32_t slot) noexcept;
  void push_back(std::uint32_t slot) noexcept;
  void read_namespace(std::uint16_t ns, double now);

  FeatureOptions options_;
  KeyMap map_;
  std::vector<KeyStats> slots_;
  std::uint32_t head_ = KeyMap::kAbsent;  ///< least recently seen
  std::uint32_t tail_ = KeyMap::kAbsent;
  std::vector<NamespaceRate> namespaces_;
};

}  // namespace stratacache::predict
