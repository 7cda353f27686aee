#include "predict/access_predictor.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "common/error.hpp"

namespace stratacache::predict {
namespace {

constexpr auto kCols = static_cast<Eigen::Index>(kFeatureCount);

}  // namespace

AccessPredictor::AccessPredictor(const PredictorOptions& options)
    : options_(options),
      table_(options.features),
      model_(kCols, options.model),
      rng_(options.seed) {
  if (!(options.horizon > 0) || !std::isfinite(options.horizon)) {
    throw Error(ErrorCode::kInvalidConfig, "predictor: horizon must be > 0 and finite");
  }
  if (!(options.sample_rate >= 0 && options.sample_rate <= 1)) {
    throw Error(ErrorCode::kInvalidConfig, "predictor: sample_rate must be in [0, 1]");
  }
  if (options.pending_capacity == 0 || options.batch_size == 0) {
    throw Error(ErrorCode::kInvalidConfig,
                "predictor: pending_capacity and batch_size must be at least 1");
  }
  const auto rows = static_cast<Eigen::Index>(options.batch_size);
  batch_x_.resize(rows, kCols);
  batch_y_.resize(rows);
}

void AccessPredictor::record(const Event& event) {
  clock_ = std::max(clock_, event.time);
  advance(event.time);
  table_.record(event);
  if (options_.sample_rate > 0 &&
      (options_.sample_rate >= 1 || rng_.uniform() < options_.sample_rate)) {
    observe(table_.key_at(rng_.below(table_.size())), event.time);
  }
}

void AccessPredictor::record_batch(std::span<const std::int64_t> keys,
                                   std::span<const double> times, const std::vector<bool>& writes) {
  if (times.size() != keys.size() || (!writes.empty() && writes.size() != keys.size())) {
    throw Error(ErrorCode::kInvalidConfig, "predictor: keys, times and writes differ in length");
  }
  double last = clock_;
  for (const double t : times) {
    if (!(t >= last) || !std::isfinite(t)) {
      throw Error(ErrorCode::kInvalidConfig, "predictor: times must be finite and never go back (" +
                                                 std::to_string(t) + " after " +
                                                 std::to_string(last) + ")");
    }
    last = t;
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const bool write = !writes.empty() && writes[i];
    record({times[i], keys[i], write ? Op::kSet : Op::kGet, 0});
  }
}

void AccessPredictor::observe(std::int64_t key, double now, double skip) {
  if (pending_.size() >= options_.pending_capacity) {
    ++stats_.dropped;
    return;
  }
  const FeatureRow f = table_.features(key, now);
  Pending p{now, static_cast<float>(skip), {}, key};
  std::transform(f.begin(), f.end(), p.x.begin(), [](double v) { return static_cast<float>(v); });
  pending_.push_back(p);
  ++stats_.observed;
}

void AccessPredictor::advance(double now) {
  while (!pending_.empty() && pending_.front().time + options_.horizon < now) {
    label(pending_.front());
    pending_.pop_front();
  }
}

void AccessPredictor::label(const Pending& p) {
  const bool read_again = table_.read_after(p.key, p.time + p.skip);
  batch_x_.row(batch_rows_) =
      Eigen::Map<const Eigen::RowVectorXf>(p.x.data(), kCols).cast<double>();
  batch_y_(batch_rows_) = read_again ? 1.0 : 0.0;
  stats_.positives += read_again ? 1 : 0;
  if (++batch_rows_ == batch_x_.rows()) train_batch();
}

void AccessPredictor::train_batch() {
  model_.train(batch_x_.topRows(batch_rows_), batch_y_.head(batch_rows_));
  stats_.trained += static_cast<std::uint64_t>(batch_rows_);
  batch_rows_ = 0;
}

std::size_t AccessPredictor::bytes() const noexcept {
  // libstdc++'s deque: 512-byte nodes (8 observations), a map of node pointers (at least 8).
  constexpr std::size_t kNode = 512;
  constexpr std::size_t kPerNode = kNode / sizeof(Pending);
  const std::size_t nodes = pending_.size() / kPerNode + 1;
  const std::size_t queue = nodes * kNode + std::max<std::size_t>(8, nodes + 2) * sizeof(void*);
  const auto batch = static_cast<std::size_t>(batch_x_.size() + batch_y_.size()) * sizeof(double);
  return table_.bytes() + queue + batch;
}

Eigen::VectorXd AccessPredictor::probabilities(std::span<const std::int64_t> keys,
                                               double now) const {
  // Scored in chunks: small matrices stay in cache and out of mmap'd, page-faulting memory,
  // which made a 50k-key batch cost several times more per key than a 1k-key one.
  constexpr std::size_t kChunk = 512;
  Eigen::VectorXd out(static_cast<Eigen::Index>(keys.size()));
  Eigen::MatrixXd x(static_cast<Eigen::Index>(std::min(kChunk, keys.size())), kCols);
  for (std::size_t start = 0; start < keys.size(); start += kChunk) {
    const std::size_t n = std::min(kChunk, keys.size() - start);
    for (std::size_t i = 0; i < n; ++i) {
      const FeatureRow f = table_.features(keys[start + i], now);
      x.row(static_cast<Eigen::Index>(i)) = Eigen::Map<const Eigen::RowVectorXd>(f.data(), kCols);
    }
    const auto rows = static_cast<Eigen::Index>(n);
    out.segment(static_cast<Eigen::Index>(start), rows) = model_.predict(x.topRows(rows));
  }
  return out;
}

double AccessPredictor::probability(std::int64_t key, double now) const {
  return probabilities(std::span<const std::int64_t>(&key, 1), now)(0);
}

std::vector<std::int64_t> AccessPredictor::top_keys(std::size_t n, double now) const {
  const std::vector<std::int64_t> keys = table_.keys();
  const Eigen::VectorXd p = probabilities(keys, now);
  std::vector<std::size_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  n = std::min(n, keys.size());
  // Ties (an untrained model scores every key 0.5) go to the most recently seen key.
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    [&](std::size_t a, std::size_t b) {
                      const auto ia = static_cast<Eigen::Index>(a);
                      const auto ib = static_cast<Eigen::Index>(b);
                      return p(ia) != p(ib) ? p(ia) > p(ib) : a > b;
                    });
  std::vector<std::int64_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = keys[order[i]];
  return out;
}

}  // namespace stratacache::predict
