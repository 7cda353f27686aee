// Timed workloads for the predictor: seeded generators of (time, key, get/set) events whose
// access and update processes are known, so a model's predictions can be checked against them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stratacache::predict {

/// What an event does: a read through the cache, or a write at the source of truth.
enum class Op : std::uint8_t { kGet, kSet };

/// One request of a timed workload.
struct Event {
  double time = 0;  ///< seconds since the workload started
  std::int64_t key = 0;
  Op op = Op::kGet;
  std::uint16_t ns = 0;  ///< namespace id (distinct per merged workload)
};

/// Parameters of `make_workload`; each kind reads the fields named in its comment.
struct WorkloadOptions {
  /// "periodic": each key read every P_k (log-uniform in [period_min, period_max]) +- jitter.
  /// "bursty": each key alternates on/off periods (means burst_on, burst_off), read at
  ///   burst_rate per second while on.
  /// "diurnal": Zipf(zipf_alpha) popularity, total `rate` modulated by a sine of period `cycle`
  ///   and relative `amplitude`, with a phase per key among four time zones.
  /// "scan": Zipf(zipf_alpha) reads at `rate`, plus every `scan_every` seconds one scan of the
  ///   same `scan_length` cold keys, at `rate` requests per second.
  /// "trace": the keys of the file `trace_path` (at most `max_requests`, 0: all) with Poisson
  ///   arrivals at `rate` per second.
  std::string kind = "periodic";
  std::uint64_t keys = 1000;  ///< keys of the generated kinds (hot keys for "scan")
  double duration = 3600;     ///< seconds (the generated kinds; "trace" lasts as long as its keys)
  std::uint64_t seed = 1;
  double rate = 100;  ///< requests per second ("diurnal", "scan", "trace")
  double period_min = 30;
  double period_max = 600;
  double jitter = 0.1;  ///< standard deviation of a read's offset, as a fraction of its period
  double burst_on = 60;
  double burst_off = 600;
  double burst_rate = 0.5;
  double zipf_alpha = 0.9;
  double cycle = 3600;
  double amplitude = 0.8;
  double scan_every = 600;
  std::uint64_t scan_length = 1000;
  std::string trace_path;
  std::uint64_t max_requests = 0;
  /// Mean seconds between two writes of one key, a Poisson process per key whose mean is spread
  /// log-uniformly over [x/2, 2x] across keys; 0: no writes.
  double update_interval = 0;
  std::uint16_t ns = 0;  ///< namespace id stamped on every event; also keeps merged keys apart
};

/// A generated workload: events sorted by time.
struct TimedWorkload {
  std::vector<Event> events;
  double duration = 0;     ///< seconds covered (the last event's time at most)
  std::uint64_t keys = 0;  ///< distinct keys read or written
};

/// Kinds accepted by `make_workload`.
[[nodiscard]] std::vector<std::string> workload_kinds();

/// Generates a workload. Identical options give identical events. Throws Error{kInvalidConfig}
/// for an unknown kind or an out-of-range parameter, and the trace reader's errors for "trace".
[[nodiscard]] TimedWorkload make_workload(const WorkloadOptions& options);

/// The events of all `parts` in one time order (each part keeps its namespace ids).
[[nodiscard]] TimedWorkload merge_workloads(const std::vector<TimedWorkload>& parts);

/// The events of namespace `ns`, in order.
[[nodiscard]] std::vector<Event> events_of(const TimedWorkload& workload, std::uint16_t ns);

}  // namespace stratacache::predict
