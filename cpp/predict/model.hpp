// The predictor's model: online logistic regression in Eigen, trained and scored in batches.
#pragma once

#include <Eigen/Dense>
#include <cstdint>

namespace stratacache::predict {

/// Options of a LogisticModel.
struct ModelOptions {
  double learning_rate = 0.2;   ///< initial SGD step on standardized features
  double l2 = 1e-4;             ///< L2 penalty on the weights (not on the bias)
  Eigen::Index minibatch = 32;  ///< rows per SGD step inside one `train` call
};

/// P(y = 1 | x) = sigmoid(w . z + b), where z standardizes x by running means and variances.
///
/// Each `train` call first merges the batch into the running moments (Chan et al.'s parallel
/// Welford update), then takes one SGD step per mini-batch of standardized rows, with L2 and a
/// step of learning_rate / sqrt(1 + steps / 100). Rows are samples, columns features. Not
/// thread-safe; a batch of n rows costs O(n d) in a few Eigen matrix products.
class LogisticModel {
 public:
  LogisticModel(Eigen::Index features, const ModelOptions& options);

  /// One online pass over a labelled batch (labels 0 or 1).
  void train(const Eigen::Ref<const Eigen::MatrixXd>& x,
             const Eigen::Ref<const Eigen::VectorXd>& y);
  /// Probabilities for each row of `x`; 0.5 everywhere before any training.
  [[nodiscard]] Eigen::VectorXd predict(const Eigen::Ref<const Eigen::MatrixXd>& x) const;
  /// Mean log-loss of the model on a labelled batch (for tests and reports).
  [[nodiscard]] double log_loss(const Eigen::Ref<const Eigen::MatrixXd>& x,
                                const Eigen::Ref<const Eigen::VectorXd>& y) const;

  [[nodiscard]] Eigen::Index features() const noexcept { return weights_.size(); }
  [[nodiscard]] std::uint64_t samples() const noexcept { return samples_; }
  /// Weights on standardized features (clipped to 8 deviations), and the bias.
  [[nodiscard]] const Eigen::VectorXd& weights() const noexcept { return weights_; }
  [[nodiscard]] double bias() const noexcept { return bias_; }

 private:
  void update_moments(const Eigen::Ref<const Eigen::MatrixXd>& x);
  [[nodiscard]] Eigen::MatrixXd standardize(const Eigen::Ref<const Eigen::MatrixXd>& x) const;

  ModelOptions options_;
  Eigen::VectorXd weights_;
  double bias_ = 0;
  Eigen::RowVectorXd mean_;
  Eigen::RowVectorXd m2_;  ///< sums of squared deviations from the mean
  std::uint64_t samples_ = 0;
  std::uint64_t steps_ = 0;
};

}  // namespace stratacache::predict
