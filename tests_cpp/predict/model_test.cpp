#include "predict/model.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"
#include "predict/seeded_random.hpp"

namespace stratacache::predict {
namespace {

// Labels drawn from a known logistic model over features of very different scales.
struct Synthetic {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
};

Synthetic draw(Eigen::Index n, std::uint64_t seed) {
  SeededRandom rng(seed);
  Synthetic s{Eigen::MatrixXd(n, 3), Eigen::VectorXd(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    s.x(i, 0) = 1000 + 100 * rng.normal();  // informative, large scale
    s.x(i, 1) = 0.01 * rng.normal();        // informative, tiny scale
    s.x(i, 2) = rng.normal();               // noise
    const double logit = 2 * (s.x(i, 0) - 1000) / 100 - 3 * s.x(i, 1) / 0.01;
    s.y(i) = rng.uniform() < 1 / (1 + std::exp(-logit)) ? 1.0 : 0.0;
  }
  return s;
}

TEST(LogisticModel, LearnsAKnownModelAcrossFeatureScales) {
  LogisticModel model(3, {});
  const Synthetic test = draw(4000, 99);
  EXPECT_NEAR(model.log_loss(test.x, test.y), std::log(2.0), 1e-9);  // untrained: p = 0.5
  for (int batch = 0; batch < 40; ++batch) {
    const Synthetic s = draw(256, batch + 1);
    model.train(s.x, s.y);
  }
  EXPECT_EQ(model.samples(), 40U * 256U);
  EXPECT_GT(model.weights()(0), 1.0);
  EXPECT_LT(model.weights()(1), -1.5);
  EXPECT_LT(std::abs(model.weights()(2)), 0.3);
  // The true model's log-loss on this data is about 0.3; the constant model's is log 2.
  EXPECT_LT(model.log_loss(test.x, test.y), 0.4);
}

TEST(LogisticModel, ScoresABatchAsItsRows) {
  LogisticModel model(3, {});
  const Synthetic s = draw(512, 3);
  model.train(s.x, s.y);
  const Eigen::VectorXd all = model.predict(s.x.topRows(10));
  for (Eigen::Index i = 0; i < 10; ++i) {
    EXPECT_DOUBLE_EQ(model.predict(s.x.row(i))(0), all(i));
    EXPECT_GT(all(i), 0);
    EXPECT_LT(all(i), 1);
  }
}

TEST(LogisticModel, ConstantFeatureDoesNotBreakStandardization) {
  LogisticModel model(2, {});
  Eigen::MatrixXd x(100, 2);
  Eigen::VectorXd y(100);
  for (Eigen::Index i = 0; i < 100; ++i) {
    x(i, 0) = 7;  // never varies
    x(i, 1) = static_cast<double>(i % 2);
    y(i) = static_cast<double>(i % 2);
  }
  for (int r = 0; r < 20; ++r) model.train(x, y);
  const Eigen::VectorXd p = model.predict(x.topRows(2));
  EXPECT_TRUE(p.allFinite());
  EXPECT_LT(p(0), 0.2);
  EXPECT_GT(p(1), 0.8);
}

TEST(LogisticModel, RejectsBadShapesAndOptions) {
  EXPECT_THROW(LogisticModel(0, {}), Error);
  EXPECT_THROW(LogisticModel(2, {.learning_rate = 0}), Error);
  EXPECT_THROW(LogisticModel(2, {.l2 = -1}), Error);
  LogisticModel model(2, {});
  EXPECT_THROW(model.train(Eigen::MatrixXd::Zero(4, 3), Eigen::VectorXd::Zero(4)), Error);
  EXPECT_THROW(model.train(Eigen::MatrixXd::Zero(4, 2), Eigen::VectorXd::Zero(3)), Error);
  EXPECT_THROW((void)model.predict(Eigen::MatrixXd::Zero(1, 3)), Error);
}

}  // namespace
}  // namespace stratacache::predict
