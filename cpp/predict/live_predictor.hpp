// The predictor in a live cache: drains a store's AccessRecorder into an AccessPredictor and
// ranks the keys it tracks by name, for warming.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "predict/access_predictor.hpp"
#include "store/access_recorder.hpp"

namespace stratacache::predict {

/// One ranked key: its name as stored (prefix + body) and P(read within the horizon).
struct HotKey {
  std::string name;
  std::uint32_t prefix_size = 0;
  double probability = 0;
};

/// One recently read key: its name as stored (prefix + body) and the seconds since its last
/// read (as far as the drained records tell).
struct RecentKey {
  std::string name;
  std::uint32_t prefix_size = 0;
  double age = 0;
};

/// Counters of a LivePredictor.
struct LiveStats {
  std::uint64_t fed = 0;       ///< records fed to the model
  std::uint64_t lost = 0;      ///< sampled records never fed (overwritten or dropped in the ring)
  std::uint64_t tracked = 0;   ///< keys the feature table tracks
  std::uint64_t names = 0;     ///< tracked keys with a name
  std::uint64_t trained = 0;   ///< labelled observations learned from
  std::uint64_t observed = 0;  ///< observations queued
  double model_bytes_per_key = 0;  ///< heap bytes of the model and its queues, per tracked key
  double name_bytes_per_key = 0;   ///< heap bytes of the kept and staged names, per tracked key
};

/// Reads the recorder's new records on each `drain` (ticket order) and feeds them to the model:
/// get hits and misses are reads, sets and deletes writes; times are the store's clock in
/// seconds, made non-decreasing (writers take tickets and the clock in either order). The
/// recorder stages key names from construction on; each drain moves the names of keys the
/// feature table tracks into the table, which keeps them while it tracks the key. Thread-safe: one
/// mutex guards the model, so `drain` (a background thread) and `hot_keys` (any caller) may
/// overlap; neither touches the store.
class LivePredictor {
 public:
  /// `recorder` and `clock` are borrowed and must outlive this object.
  LivePredictor(const PredictorOptions& options, store::AccessRecorder& recorder,
                const Clock& clock);

  /// Feeds every record written since the last drain; returns how many.
  std::size_t drain();
  /// The `n` named keys most likely to be read within the horizon, best first; with
  /// `namespace_hash`, only keys recorded under that prefix.
  [[nodiscard]] std::vector<HotKey> hot_keys(std::size_t n,
                                             std::optional<std::uint32_t> namespace_hash);
  /// The `n` named keys read most recently, most recent first; with `namespace_hash`, only
  /// keys recorded under that prefix. Keys written but never read are left out.
  [[nodiscard]] std::vector<RecentKey> recent_keys(std::size_t n,
                                                   std::optional<std::uint32_t> namespace_hash);
  /// P(read within the horizon) of the key with this store hash (untracked: a new key's).
  [[nodiscard]] double probability(std::uint64_t key_hash);
  [[nodiscard]] LiveStats stats();
  [[nodiscard]] double horizon() const noexcept { return predictor_.options().horizon; }

 private:
  [[nodiscard]] double seconds(Nanos t) const noexcept {
    return static_cast<double>(t - epoch_) * 1e-9;
  }
  std::uint16_t namespace_id(std::uint32_t hash);
  /// Tracked keys of `namespace_hash` (all when nullopt), least recently seen first; empty
  /// for a namespace never recorded. Caller holds `lock_`.
  [[nodiscard]] std::vector<std::int64_t> keys_of(std::optional<std::uint32_t> namespace_hash);
  void keep_names(const store::StagedNames& staged);

  static constexpr std::size_t kKeptBuffer = 1024;  ///< records of scratch kept between drains

  std::mutex lock_;
  AccessPredictor predictor_;
  store::AccessRecorder& recorder_;
  const Clock& clock_;
  Nanos epoch_;
  double last_ = 0;
  std::uint64_t cursor_ = 0;
  LiveStats counts_;
  std::vector<store::AccessRecord> buffer_;
  std::unordered_map<std::uint32_t, std::uint16_t> namespaces_;
};

}  // namespace stratacache::predict
