// bench_store: per-operation cost of the L1 store and of the W-TinyLFU policy alone.
//
//   bench_store [--benchmark_filter=REGEX] ...
//
// STRATACACHE_BENCH_ITERATIONS=N fixes every case's iteration count, so that two runs under
// `valgrind --tool=callgrind` with different N give instructions per operation by difference,
// free of the setup's cost.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/hash.hpp"
#include "stats/latencies.hpp"
#include "store/access_recorder.hpp"
#include "store/policies.hpp"

namespace sc = stratacache;
namespace st = stratacache::store;

namespace {

constexpr std::size_t kHitKeys = 100'000;
constexpr std::size_t kSetKeys = 200'000;
constexpr std::uint64_t kSetCapacity = 50'000;
constexpr std::size_t kSequence = std::size_t{1} << 18;  // requests before a sequence repeats

struct Keys {
  std::vector<std::string> names;
  std::vector<std::uint64_t> hashes;
};

const Keys& keys() {
  static const Keys k = [] {
    Keys out;
    for (std::size_t i = 0; i < kSetKeys; ++i) {
      out.names.push_back("bench:key:" + std::to_string(i));
      out.hashes.push_back(sc::hash_bytes(out.names.back()));
    }
    return out;
  }();
  return k;
}

// Deterministic uniform doubles in [0, 1) from a counter.
double uniform(std::uint64_t i) {
  return static_cast<double>(sc::mix64(i + 0x1234567ULL) >> 11) * 0x1.0p-53;
}

// Indices into the first `n` keys, Zipf-distributed with exponent `s` (rank 0 most popular).
std::vector<std::uint32_t> zipf_sequence(std::size_t n, double s) {
  std::vector<double> cdf(n);
  double sum = 0;
  for (std::size_t r = 0; r < n; ++r) cdf[r] = sum += 1.0 / std::pow(static_cast<double>(r + 1), s);
  std::vector<std::uint32_t> seq(kSequence);
  for (std::size_t i = 0; i < kSequence; ++i) {
    const double u = uniform(i) * sum;
    const auto r = std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
    seq[i] =
        static_cast<std::uint32_t>(std::min<std::ptrdiff_t>(r, static_cast<std::ptrdiff_t>(n - 1)));
  }
  return seq;
}

const std::vector<std::uint32_t>& zipf_hits() {
  static const std::vector<std::uint32_t> seq = zipf_sequence(kHitKeys, 0.99);
  return seq;
}

const std::vector<std::uint32_t>& uniform_sets() {
  static const std::vector<std::uint32_t> seq = [] {
    std::vector<std::uint32_t> out(kSequence);
    for (std::size_t i = 0; i < kSequence; ++i) {
      out[i] = static_cast<std::uint32_t>(uniform(i ^ 0xabcdefULL) * kSetKeys);
    }
    return out;
  }();
  return seq;
}

st::KeyView view(const std::string& name) { return {"", name}; }

// Gets that all hit: every key is stored, requests follow a Zipf law over them. With `offset`
// kHitKeys, the same law over the next kHitKeys keys, none stored: gets that all miss.
template <class P>
void get_hits(benchmark::State& state, st::AccessRecorder* recorder,
              sc::stats::Latencies* latencies = nullptr, std::uint32_t offset = 0) {
  const Keys& k = keys();
  st::ShardedStore<std::string, P> store(
      st::StoreConfig{.max_entries = 2 * kHitKeys, .recorder = recorder, .latencies = latencies});
  std::vector<std::string> dropped;
  for (std::size_t i = 0; i < kHitKeys; ++i) {
    (void)store.set(view(k.names[i]), k.hashes[i], "v", 1, std::nullopt, dropped);
  }
  const auto& seq = zipf_hits();
  // Resolved once, as the Python getters do: an unresolved prefix is looked up under a mutex.
  const sc::stats::NamespaceSlot ns = store.namespace_slot("");
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint32_t key = offset + seq[i++ & (kSequence - 1)];
    benchmark::DoNotOptimize(store.get({"", k.names[key], ns}, k.hashes[key]));
  }
  state.SetItemsProcessed(state.iterations());
}

// Sets into a full cache: uniform over four times as many keys as fit, so most sets insert and
// evict.
template <class P>
void sets_full(benchmark::State& state, st::AccessRecorder* recorder) {
  const Keys& k = keys();
  st::ShardedStore<std::string, P> store(
      st::StoreConfig{.max_entries = kSetCapacity, .recorder = recorder});
  std::vector<std::string> dropped;
  for (std::size_t i = 0; i < kSetKeys; ++i) {
    (void)store.set(view(k.names[i]), k.hashes[i], "v", 1, std::nullopt, dropped);
  }
  dropped.clear();
  const auto& seq = uniform_sets();
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint32_t key = seq[i++ & (kSequence - 1)];
    benchmark::DoNotOptimize(
        store.set(view(k.names[key]), k.hashes[key], "v", 1, std::nullopt, dropped));
    dropped.clear();
  }
  state.SetItemsProcessed(state.iterations());
}

template <class P>
void BM_GetHit(benchmark::State& state) {
  get_hits<P>(state, nullptr);
}

template <class P>
void BM_GetMiss(benchmark::State& state) {
  get_hits<P>(state, nullptr, nullptr, static_cast<std::uint32_t>(kHitKeys));
}

template <class P>
void BM_SetFull(benchmark::State& state) {
  sets_full<P>(state, nullptr);
}

// The recorder's cost: get-hit and set-full with recording off (arg 0) and on at a sample rate
// of arg / 1000, side by side. The ring holds 2^20 records, so the writers lap it and the cost
// includes the steady state of overwriting.
std::unique_ptr<st::AccessRecorder> recorder_for(const benchmark::State& state) {
  if (state.range(0) == 0) return nullptr;
  return std::make_unique<st::AccessRecorder>(static_cast<double>(state.range(0)) / 1000.0,
                                              std::uint64_t{1} << 20);
}

void BM_GetHitRecording(benchmark::State& state) {
  const auto recorder = recorder_for(state);
  get_hits<st::TinyLfuPolicy>(state, recorder.get());
}

void BM_SetFullRecording(benchmark::State& state) {
  const auto recorder = recorder_for(state);
  sets_full<st::TinyLfuPolicy>(state, recorder.get());
}

// The cost of latency timing: get-hit with timing off (arg 0), and timing one call in arg.
void BM_GetHitTiming(benchmark::State& state) {
  std::unique_ptr<sc::stats::Latencies> latencies;
  if (state.range(0) != 0) {
    latencies = std::make_unique<sc::stats::Latencies>(1.0 / static_cast<double>(state.range(0)));
  }
  get_hits<st::TinyLfuPolicy>(state, nullptr, latencies.get());
}

// One histogram record alone (bucket index, two relaxed adds on the thread's stripe).
void BM_HistogramRecord(benchmark::State& state) {
  static sc::stats::LatencyHistogram histogram;
  std::uint64_t t = 0;
  for (auto _ : state) histogram.record((++t * 37) & 0xFFFFF);
  state.SetItemsProcessed(state.iterations());
}

// The recorder alone, every key sampled: ticket, slot seqlock, clock read not included.
void BM_RecorderRecord(benchmark::State& state) {
  st::AccessRecorder recorder(1.0, std::uint64_t{1} << 20);
  std::uint64_t t = 0;
  for (auto _ : state) {
    ++t;
    recorder.record(sc::mix64(t), 7, st::AccessOp::kGetHit, static_cast<sc::Nanos>(t));
  }
  state.SetItemsProcessed(state.iterations());
}

// The policy alone: hits on resident ids, Zipf over 100k entries.
void BM_TinyLfuOnAccess(benchmark::State& state) {
  const Keys& k = keys();
  st::TinyLfuPolicy policy(kHitKeys);
  for (st::EntryId id = 0; id < kHitKeys; ++id) policy.on_insert(id, k.hashes[id], 1);
  const auto& seq = zipf_hits();
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint32_t key = seq[i++ & (kSequence - 1)];
    policy.on_access(key, k.hashes[key]);
  }
  state.SetItemsProcessed(state.iterations());
}

// The policy alone: a miss, an insert and one eviction per iteration, the id recycled as the
// store would.
void BM_TinyLfuInsertEvict(benchmark::State& state) {
  const Keys& k = keys();
  st::TinyLfuPolicy policy(kSetCapacity);
  for (st::EntryId id = 0; id < kSetCapacity; ++id) policy.on_insert(id, k.hashes[id], 1);
  const auto& seq = uniform_sets();
  std::size_t i = 0;
  st::EntryId next = static_cast<st::EntryId>(kSetCapacity);
  for (auto _ : state) {
    const std::uint64_t hash = k.hashes[seq[i++ & (kSequence - 1)]];
    policy.on_miss(hash);
    policy.on_insert(next, hash, 1);
    const std::optional<st::EntryId> victim = policy.victim();
    policy.on_remove(*victim);
    next = *victim;
  }
  state.SetItemsProcessed(state.iterations());
}

void configure(benchmark::internal::Benchmark* b) {
  if (const char* n = std::getenv("STRATACACHE_BENCH_ITERATIONS")) {
    b->Iterations(std::strtoll(n, nullptr, 10));
  }
}

BENCHMARK(BM_GetHit<st::LruPolicy>)->Apply(configure);
BENCHMARK(BM_GetHit<st::TinyLfuPolicy>)->Apply(configure);
BENCHMARK(BM_GetHit<st::S3FifoPolicy>)->Apply(configure);
BENCHMARK(BM_GetMiss<st::LruPolicy>)->Apply(configure);
BENCHMARK(BM_GetMiss<st::TinyLfuPolicy>)->Apply(configure);
BENCHMARK(BM_GetMiss<st::S3FifoPolicy>)->Apply(configure);
BENCHMARK(BM_SetFull<st::LruPolicy>)->Apply(configure);
BENCHMARK(BM_SetFull<st::TinyLfuPolicy>)->Apply(configure);
BENCHMARK(BM_SetFull<st::S3FifoPolicy>)->Apply(configure);
BENCHMARK(BM_GetHitRecording)->Arg(0)->Arg(1000)->Arg(10)->Apply(configure);
BENCHMARK(BM_SetFullRecording)->Arg(0)->Arg(1000)->Arg(10)->Apply(configure);
BENCHMARK(BM_RecorderRecord)->Apply(configure);
BENCHMARK(BM_GetHitTiming)->Arg(0)->Arg(64)->Arg(1)->Apply(configure);
BENCHMARK(BM_HistogramRecord)->Apply(configure);
BENCHMARK(BM_HistogramRecord)->Threads(2)->Apply(configure);
BENCHMARK(BM_RecorderRecord)->Threads(2)->Apply(configure);
BENCHMARK(BM_TinyLfuOnAccess)->Apply(configure);
BENCHMARK(BM_TinyLfuInsertEvict)->Apply(configure);

}  // namespace

BENCHMARK_MAIN();
