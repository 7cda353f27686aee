// Expected failures as values: a Result<T> holds either a T or the ErrorCode and message saying
// why there is none, and [[nodiscard]] keeps a caller from ignoring it.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "common/error.hpp"

namespace stratacache {

/// Why a Result holds no value; the message never contains secrets.
struct Failure {
  ErrorCode code;
  std::string message;
};

/// Either a value or a Failure; read `ok()` before `value()`.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}            // NOLINT(google-explicit-constructor)
  Result(Failure failure) : state_(std::move(failure)) {}  // NOLINT(google-explicit-constructor)

  /// True when a value is present.
  [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value; only valid when `ok()`.
  [[nodiscard]] T& value() & { return std::get<0>(state_); }
  [[nodiscard]] const T& value() const& { return std::get<0>(state_); }
  [[nodiscard]] T&& value() && { return std::get<0>(std::move(state_)); }

  /// The failure; only valid when `!ok()`.
  [[nodiscard]] const Failure& error() const { return std::get<1>(state_); }

  /// Converts the failure into the engine's exception, for callers that must throw.
  [[noreturn]] void rethrow() const { throw Error(error().code, error().message); }

 private:
  std::variant<T, Failure> state_;
};

/// Shorthand for building a failed Result.
inline Failure fail(ErrorCode code, std::string message) {
  return Failure{code, std::move(message)};
}

}  // namespace stratacache
