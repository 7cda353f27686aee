#include "predict/live_predictor.hpp"

#include <algorithm>
#include <numeric>

namespace stratacache::predict {

LivePredictor::LivePredictor(const PredictorOptions& options, store::AccessRecorder& recorder,
                             const Clock& clock)
    : predictor_(options), recorder_(recorder), clock_(clock), epoch_(clock.now()) {
  recorder_.keep_names(options.features.capacity);
  cursor_ = recorder_.stats().recorded;  // what was recorded before belongs to no model
}

std::uint16_t LivePredictor::namespace_id(std::uint32_t hash) {
  const auto it = namespaces_.find(hash);
  if (it != namespaces_.end()) return it->second;
  // Past 65535 namespaces the rest share the last id: a feature blurs, nothing breaks.
  const auto id = static_cast<std::uint16_t>(std::min<std::size_t>(namespaces_.size(), 0xffff));
  namespaces_.emplace(hash, id);
  return id;
}

std::size_t LivePredictor::drain() {
  std::lock_guard guard(lock_);
  buffer_.clear();
  const std::uint64_t from = cursor_;
  cursor_ = recorder_.read_since(from, buffer_);
  counts_.lost += (cursor_ - from) - buffer_.size();
  for (const store::AccessRecord& r : buffer_) {
    last_ = std::max(last_, seconds(r.time));
    const bool read = r.op == store::AccessOp::kGetHit || r.op == store::AccessOp::kGetMiss;
    predictor_.record({last_, static_cast<std::int64_t>(r.key_hash), read ? Op::kGet : Op::kSet,
                       namespace_id(r.namespace_hash)});
  }
  counts_.fed += buffer_.size();
  predictor_.advance(std::max(last_, seconds(clock_.now())));
  if (store::KeyNames* names = recorder_.names()) {
    const FeatureTable& table = predictor_.table();
    names->retain([&](std::uint64_t h) { return table.find(static_cast<std::int64_t>(h)); });
  }
  return buffer_.size();
}

std::vector<HotKey> LivePredictor::hot_keys(std::size_t n,
                                            std::optional<std::uint32_t> namespace_hash) {
  std::lock_guard guard(lock_);
  const double now = std::max(last_, seconds(clock_.now()));
  const FeatureTable& table = predictor_.table();
  std::vector<std::int64_t> keys = table.keys();
  if (namespace_hash) {
    const auto it = namespaces_.find(*namespace_hash);
    if (it == namespaces_.end()) return {};
    std::erase_if(keys, [&](std::int64_t k) { return table.find(k)->ns != it->second; });
  }
  const Eigen::VectorXd p = predictor_.probabilities(keys, now);
  std::vector<std::size_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  // Ties (an untrained model scores every key 0.5) go to the most recently seen key.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto ia = static_cast<Eigen::Index>(a);
    const auto ib = static_cast<Eigen::Index>(b);
    return p(ia) != p(ib) ? p(ia) > p(ib) : a > b;
  });
  std::vector<HotKey> out;
  store::KeyNames* names = recorder_.names();
  for (std::size_t i = 0; i < order.size() && out.size() < n && names != nullptr; ++i) {
    const auto name = names->find(static_cast<std::uint64_t>(keys[order[i]]));
    if (!name) continue;  // its name was refused while the table was busy or full
    out.push_back({name->full, name->prefix_size, p(static_cast<Eigen::Index>(order[i]))});
  }
  return out;
}

double LivePredictor::probability(std::uint64_t key_hash) {
  std::lock_guard guard(lock_);
  const double now = std::max(last_, seconds(clock_.now()));
  return predictor_.probability(static_cast<std::int64_t>(key_hash), now);
}

bool LivePredictor::observe(std::uint64_t key_hash, double skip) {
  std::lock_guard guard(lock_);
  const auto key = static_cast<std::int64_t>(key_hash);
  if (predictor_.table().find(key) == nullptr) return false;
  // At the latest time fed, so the queue stays in time order (drain clamps to last_ too).
  last_ = std::max(last_, seconds(clock_.now()));
  const double horizon = predictor_.options().horizon;
  predictor_.observe(key, last_, std::clamp(skip, 0.0, 0.99 * horizon));
  return true;
}

LiveStats LivePredictor::stats() {
  std::lock_guard guard(lock_);
  LiveStats s = counts_;
  s.tracked = predictor_.table().size();
  s.trained = predictor_.stats().trained;
  s.observed = predictor_.stats().observed;
  s.model_bytes_per_key = predictor_.table().bytes_per_key();
  if (const store::KeyNames* names = recorder_.names()) {
    s.names = names->size();
    s.name_bytes_per_key =
        s.names > 0 ? static_cast<double>(names->bytes()) / static_cast<double>(s.names) : 0.0;
  }
  return s;
}

}  // namespace stratacache::predict
