#include "predict/model.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

// A feature that never varied is left unscaled rather than divided by zero.
constexpr double kMinStd = 1e-6;
// Standardized values beyond this many deviations are clipped to it.
constexpr double kClip = 8;
// Probabilities are kept this far from 0 and 1 inside the log-loss.
constexpr double kEps = 1e-12;

Eigen::VectorXd sigmoid(const Eigen::VectorXd& logits) {
  return (1.0 + (-logits.array()).exp()).inverse().matrix();
}

}  // namespace

LogisticModel::LogisticModel(Eigen::Index features, const ModelOptions& options)
    : options_(options),
      weights_(Eigen::VectorXd::Zero(features)),
      mean_(Eigen::RowVectorXd::Zero(features)),
      m2_(Eigen::RowVectorXd::Zero(features)) {
  if (features <= 0) throw Error(ErrorCode::kInvalidConfig, "model: needs at least one feature");
  if (!(options.learning_rate > 0) || !std::isfinite(options.learning_rate)) {
    throw Error(ErrorCode::kInvalidConfig, "model: learning_rate must be > 0 and finite");
  }
  if (!(options.l2 >= 0) || !std::isfinite(options.l2)) {
    throw Error(ErrorCode::kInvalidConfig, "model: l2 must be >= 0 and finite");
  }
  if (options.minibatch <= 0)
    throw Error(ErrorCode::kInvalidConfig, "model: minibatch must be > 0");
}

void LogisticModel::train(const Eigen::Ref<const Eigen::MatrixXd>& x,
                          const Eigen::Ref<const Eigen::VectorXd>& y) {
  if (x.cols() != features() || x.rows() != y.size()) {
    throw Error(ErrorCode::kInvalidConfig, "model: batch is " + std::to_string(x.rows()) + "x" +
                                               std::to_string(x.cols()) + " with " +
                                               std::to_string(y.size()) + " labels, expected " +
                                               std::to_string(features()) + " columns");
  }
  if (x.rows() == 0) return;
  update_moments(x);
  const Eigen::MatrixXd z = standardize(x);
  for (Eigen::Index start = 0; start < z.rows(); start += options_.minibatch) {
    const Eigen::Index n = std::min(options_.minibatch, z.rows() - start);
    const auto zb = z.middleRows(start, n);
    const Eigen::VectorXd error = sigmoid((zb * weights_).array() + bias_) - y.segment(start, n);
    const double step =
        options_.learning_rate / std::sqrt(1.0 + static_cast<double>(steps_) / 100.0);
    const double scale = 1.0 / static_cast<double>(n);
    weights_ -= step * (scale * (zb.transpose() * error) + options_.l2 * weights_);
    bias_ -= step * scale * error.sum();
    ++steps_;
  }
}

Eigen::VectorXd LogisticModel::predict(const Eigen::Ref<const Eigen::MatrixXd>& x) const {
  if (x.cols() != features()) {
    throw Error(ErrorCode::kInvalidConfig, "model: expected " + std::to_string(features()) +
                                               " columns, got " + std::to_string(x.cols()));
  }
  return sigmoid((standardize(x) * weights_).array() + bias_);
}

double LogisticModel::log_loss(const Eigen::Ref<const Eigen::MatrixXd>& x,
                               const Eigen::Ref<const Eigen::VectorXd>& y) const {
  const Eigen::ArrayXd p = predict(x).array().max(kEps).min(1 - kEps);
  const Eigen::ArrayXd yy = y.array();
  return -(yy * p.log() + (1 - yy) * (1 - p).log()).mean();
}

void LogisticModel::update_moments(const Eigen::Ref<const Eigen::MatrixXd>& x) {
  const auto nb = static_cast<double>(x.rows());
  const auto na = static_cast<double>(samples_);
  const Eigen::RowVectorXd batch_mean = x.colwise().mean();
  const Eigen::RowVectorXd batch_m2 = (x.rowwise() - batch_mean).colwise().squaredNorm();
  const Eigen::RowVectorXd delta = batch_mean - mean_;
  const double total = na + nb;
  mean_ += delta * (nb / total);
  m2_ += batch_m2 + delta.cwiseProduct(delta) * (na * nb / total);
  samples_ += static_cast<std::uint64_t>(x.rows());
}

Eigen::MatrixXd LogisticModel::standardize(const Eigen::Ref<const Eigen::MatrixXd>& x) const {
  if (samples_ < 2) return x;
  const Eigen::RowVectorXd inv_std =
      (m2_ / static_cast<double>(samples_ - 1)).cwiseSqrt().cwiseMax(kMinStd).cwiseInverse();
  // Clipped: a feature that barely varied in training must not dominate a score later.
  return ((x.rowwise() - mean_).array().rowwise() * inv_std.array()).max(-kClip).min(kClip);
}

}  // namespace stratacache::predict
