// The access predictor: a FeatureTable feeding a LogisticModel that learns, from delayed labels,
// the probability that a key is read again within a horizon.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <span>
#include <vector>

#include "predict/features.hpp"
#include "predict/model.hpp"
#include "predict/seeded_random.hpp"
#include "predict/timed_workload.hpp"

namespace stratacache::predict {

/// Options of an AccessPredictor.
struct PredictorOptions {
  double horizon = 600;  ///< seconds: the model predicts a read within (now, now + horizon]
  FeatureOptions features;
  ModelOptions model;
  /// Fraction of events at which one tracked key, drawn uniformly, becomes a training
  /// observation (0: only explicit `observe` calls). Observing a random key at a random time,
  /// rather than the key just read, keeps the training rows distributed like the rows scored
  /// later: a key observed as it is read always looks idle for 0 s.
  double sample_rate = 0.1;
  std::size_t pending_capacity = 100'000;  ///< observations awaiting their label, at most
  std::size_t batch_size = 256;            ///< labelled observations per training call
  std::uint64_t seed = 1;
};

/// Counters of an AccessPredictor.
struct PredictorStats {
  std::uint64_t observed = 0;   ///< observations queued
  std::uint64_t dropped = 0;    ///< observations refused because the queue was full
  std::uint64_t trained = 0;    ///< labelled observations the model has learned from
  std::uint64_t positives = 0;  ///< of those, labelled 1
};

/// An observation of a key at time t is labelled once the clock passes t + horizon: 1 if the
/// key was read after t (the table's last read is later than t, and no later than t + horizon
/// since nothing past that has been recorded yet), else 0. A key that left the
/// table meanwhile was not read since, so it is labelled 0. Labelled rows gather into a batch
/// matrix and train the model `batch_size` rows at a time; scoring many keys is one matrix
/// product. Not thread-safe.
class AccessPredictor {
 public:
  explicit AccessPredictor(const PredictorOptions& options);

  /// Records an event (in time order): labels what is due, updates the key's features, and
  /// may observe a random tracked key.
  void record(const Event& event);
  /// Records `keys[i]` read (or written, where `writes[i]`) at `times[i]`, in order. Throws
  /// Error{kInvalidConfig} if the lengths differ or a time goes back; nothing is recorded then.
  void record_batch(std::span<const std::int64_t> keys, std::span<const double> times,
                    const std::vector<bool>& writes);
  /// Queues an observation of `key` at `now` (a decision point); its features are taken now.
  /// Its label counts reads in (now + skip, now + horizon] only (skip < horizon).
  void observe(std::int64_t key, double now, double skip = 0);
  /// Labels and trains on everything whose horizon has passed by `now`.
  void advance(double now);

  /// P(read within the horizon) of each key at `now`.
  [[nodiscard]] Eigen::VectorXd probabilities(std::span<const std::int64_t> keys, double now) const;
  [[nodiscard]] double probability(std::int64_t key, double now) const;
  /// The `n` tracked keys most likely to be read within the horizon, best first.
  [[nodiscard]] std::vector<std::int64_t> top_keys(std::size_t n, double now) const;
  /// Expected seconds to the key's next read (FeatureTable::expected_next_read).
  [[nodiscard]] std::optional<double> expected_next_read(std::int64_t key, double now) const {
    return table_.expected_next_read(key, now);
  }

  [[nodiscard]] FeatureTable& table() noexcept { return table_; }
  [[nodiscard]] const FeatureTable& table() const noexcept { return table_; }
  [[nodiscard]] const LogisticModel& model() const noexcept { return model_; }
  [[nodiscard]] const PredictorStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const PredictorOptions& options() const noexcept { return options_; }
  /// Heap bytes held: the feature table (without names), the queue of observations awaiting
  /// their label and the training batch.
  [[nodiscard]] std::size_t bytes() const noexcept;

 private:
  // 64 bytes: the features as float32 (they are logs and clamped ratios).
  struct Pending {
    double time;
    float skip;
    std::array<float, kFeatureCount> x;
    std::int64_t key;
  };
  static_assert(sizeof(Pending) == 64);

  void label(const Pending& p);
  void train_batch();

  PredictorOptions options_;
  FeatureTable table_;
  LogisticModel model_;
  SeededRandom rng_;
  std::deque<Pending> pending_;
  Eigen::MatrixXd batch_x_;
  Eigen::VectorXd batch_y_;
  Eigen::Index batch_rows_ = 0;
  PredictorStats stats_;
  double clock_ = -std::numeric_limits<double>::infinity();  ///< time of the last event
};

}  // namespace stratacache::predict
