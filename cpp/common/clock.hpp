// Monotonic time in nanoseconds, replaceable in tests.
#pragma once

#include <chrono>
#include <cstdint>

namespace stratacache {

/// Nanoseconds on the steady clock; the engine's only notion of time.
using Nanos = std::int64_t;

/// Source of monotonic time. The default reads std::chrono::steady_clock.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual Nanos now() const noexcept = 0;
};

/// The real clock.
class SteadyClock final : public Clock {
 public:
  [[nodiscard]] Nanos now() const noexcept override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static const SteadyClock& instance() noexcept {
    static const SteadyClock clock;
    return clock;
  }
};

/// A clock that moves only when told to (tests and trace replay).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos start = 1) : now_(start) {}
  [[nodiscard]] Nanos now() const noexcept override { return now_; }
  void advance(Nanos delta) noexcept { now_ += delta; }
  void set(Nanos t) noexcept { now_ = t; }

 private:
  Nanos now_;
};

}  // namespace stratacache
