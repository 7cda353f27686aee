#include "predict/live_predictor.hpp"

#include <algorithm>
#include <array>
#include <new>
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
  // Names first: a writer records before it stages the name, so every name taken here belongs
  // to a record this drain reads, and its key is tracked by the time the name is kept.
  store::KeyNames* names = recorder_.names();
  std::array<store::StagedNames, 2> staged;
  if (names != nullptr) staged = names->take();
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
  for (const store::StagedNames& generation : staged) keep_names(generation);
  const std::size_t fed = buffer_.size();
  // The batch is scratch: its memory goes back rather than stay sized for the largest drain.
  // (Not `buffer_ = {}`: that assigns an empty initializer list and keeps the capacity.)
  if (buffer_.capacity() > kKeptBuffer) std::vector<store::AccessRecord>().swap(buffer_);
  return fed;
}

void LivePredictor::keep_names(const store::StagedNames& staged) {
  FeatureTable& table = predictor_.table();
  for (const auto& [hash, ref] : staged.entries) {
    try {
      table.set_name(static_cast<std::int64_t>(hash), staged.arena.get(ref));
    } catch (const std::bad_alloc&) {
      return;  // the rest are staged again at their next sampled access
    }
  }
}

std::vector<std::int64_t> LivePredictor::keys_of(std::optional<std::uint32_t> namespace_hash) {
  const FeatureTable& table = predictor_.table();
  std::vector<std::int64_t> keys = table.keys();
  if (namespace_hash) {
    const auto it = namespaces_.find(*namespace_hash);
    if (it == namespaces_.end()) return {};
    std::erase_if(keys, [&](std::int64_t k) { return table.find(k)->ns != it->second; });
  }
  return keys;
}

std::vector<HotKey> LivePredictor::hot_keys(std::size_t n,
                                            std::optional<std::uint32_t> namespace_hash) {
  std::lock_guard guard(lock_);
  const double now = std::max(last_, seconds(clock_.now()));
  const FeatureTable& table = predictor_.table();
  const std::vector<std::int64_t> keys = keys_of(namespace_hash);
  const Eigen::VectorXd p = predictor_.probabilities(keys, now);
  // Ranked by the reads expected within the horizon, not by P(at least one read): a warmed
  // key earns a hit per read, and P saturates near 1 for every key read a few times per
  // horizon. E[reads] = P(a read) * E[reads | a read], the latter from the key's mean gap.
  const double horizon = predictor_.options().horizon;
  std::vector<double> score(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::optional<double> gap = table.mean_gap(keys[i]);
    const double given_one = gap && *gap > 0 ? 1.0 + horizon / *gap : 1.0;
    score[i] = p(static_cast<Eigen::Index>(i)) * given_one;
  }
  std::vector<std::size_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  // Ties (an untrained model scores every key 0.5) go to the most recently seen key.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return score[a] != score[b] ? score[a] > score[b] : a > b;
  });
  std::vector<HotKey> out;
  for (std::size_t i = 0; i < order.size() && out.size() < n; ++i) {
    const auto name = table.name(keys[order[i]]);
    if (!name) continue;  // its name was refused while the stage was busy or full
    out.push_back(
        {std::string(name->full), name->prefix_size, p(static_cast<Eigen::Index>(order[i]))});
  }
  return out;
}

std::vector<RecentKey> LivePredictor::recent_keys(std::size_t n,
                                                  std::optional<std::uint32_t> namespace_hash) {
  std::lock_guard guard(lock_);
  const FeatureTable& table = predictor_.table();
  std::vector<const KeyStats*> read;
  for (const std::int64_t k : keys_of(namespace_hash)) {
    const KeyStats* s = table.find(k);
    if (s->reads > 0) read.push_back(s);
  }
  // The table's order is by last access, writes included: sort by the last read alone.
  const std::size_t m = std::min(n, read.size());
  std::partial_sort(
      read.begin(), read.begin() + static_cast<std::ptrdiff_t>(m), read.end(),
      [](const KeyStats* a, const KeyStats* b) { return a->last_read > b->last_read; });
  const double now = std::max(last_, seconds(clock_.now()));
  std::vector<RecentKey> out;
  for (std::size_t i = 0; i < m; ++i) {
    const auto name = table.name(read[i]->key);
    if (!name) continue;  // refused while the stage was busy or full, as in hot_keys
    out.push_back(
        {std::string(name->full), name->prefix_size, now - table.time_of(read[i]->last_read)});
  }
  return out;
}

double LivePredictor::probability(std::uint64_t key_hash) {
  std::lock_guard guard(lock_);
  const double now = std::max(last_, seconds(clock_.now()));
  return predictor_.probability(static_cast<std::int64_t>(key_hash), now);
}

LiveStats LivePredictor::stats() {
  std::lock_guard guard(lock_);
  LiveStats s = counts_;
  s.tracked = predictor_.table().size();
  s.trained = predictor_.stats().trained;
  s.observed = predictor_.stats().observed;
  const FeatureTable& table = predictor_.table();
  s.names = table.named();
  // True heap bytes, per tracked key: containers by capacity, arenas by whole chunk.
  // libstdc++'s unordered_map: a bucket pointer each, a node of next pointer and pair each.
  constexpr std::size_t kNode = sizeof(void*) + sizeof(std::pair<std::uint32_t, std::uint16_t>);
  const std::size_t namespaces =
      namespaces_.bucket_count() * sizeof(void*) + namespaces_.size() * kNode;
  const std::size_t model =
      predictor_.bytes() + namespaces + buffer_.capacity() * sizeof(store::AccessRecord);
  std::size_t names = table.name_bytes();
  if (const store::KeyNames* staged = recorder_.names()) names += staged->bytes();
  const double per = static_cast<double>(std::max<std::uint64_t>(s.tracked, 1));
  s.model_bytes_per_key = static_cast<double>(model) / per;
  s.name_bytes_per_key = static_cast<double>(names) / per;
  return s;
}

}  // namespace stratacache::predict
