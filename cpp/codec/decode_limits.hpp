// Bounds on what decoding one value may build. A payload is at most max_value_bytes, but a few
// hundred compressed bytes can still inflate to millions of empty lists, each tens of bytes of
// Python objects; these bounds keep what a decode builds near its payload limit, whatever the
// shape. The msgpack walk (bindings) and the JSON pre-scan charge the same budget.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.hpp"

namespace stratacache::codec {

/// Estimated bytes charged on top of string, bytes and number bodies.
inline constexpr std::size_t kContainerCost = 64;  ///< each list, dict, tuple body or set body
inline constexpr std::size_t kSetCost = 192;       ///< extra for a set or frozenset (hash table)
inline constexpr std::size_t kExtCost = 64;        ///< each other extension object (datetime...)

/// What one decode may build; the same bounds apply to encode, so a value that was written
/// can always be read back.
struct DecodeLimits {
  /// Values built at any depth: elements, map keys and values, containers, extension objects.
  std::size_t max_items = 0;
  /// Estimated bytes built: str, bytes, int and extension bodies plus the costs above.
  std::size_t max_bytes = 0;
  /// Deepest container nesting.
  std::size_t max_depth = 64;

  /// The defaults for a payload limit: max_value_bytes / 16 items and twice max_value_bytes,
  /// with floors (64 Ki items, 1 MiB) so that small limits still take ordinary values.
  static DecodeLimits derived(std::size_t max_value_bytes, std::size_t max_depth);
};

/// What one walk has built so far, against its limits. The msgpack walk charges a container's
/// declared length when it opens, before anything is allocated for its elements.
class DecodeBudget {
 public:
  explicit DecodeBudget(const DecodeLimits& limits) noexcept
      : items_left_(limits.max_items), bytes_left_(limits.max_bytes), limits_(limits) {}

  /// Charges `items` values and `bytes` estimated bytes; false once either bound is passed.
  [[nodiscard]] bool charge(std::size_t items, std::size_t bytes) noexcept {
    if (items > items_left_ || bytes > bytes_left_) {
      items_passed_ = items > items_left_;
      return false;
    }
    items_left_ -= items;
    bytes_left_ -= bytes;
    return true;
  }
  /// The kTooLarge failure naming the bound that was passed.
  [[nodiscard]] Failure exceeded() const;
  /// Throws exceeded() as Error, for walks that report failures by exception.
  [[noreturn]] void exceeded_error() const {
    Failure f = exceeded();
    throw Error(f.code, std::move(f.message));
  }
  [[nodiscard]] const DecodeLimits& limits() const noexcept { return limits_; }

 private:
  std::size_t items_left_;
  std::size_t bytes_left_;
  bool items_passed_ = false;
  DecodeLimits limits_;
};

/// Checks a JSON text against `limits` before a JSON parser builds it: counts its values
/// (object keys included), string and number bytes and nesting in one pass over the bytes.
/// Returns the kTooLarge failure when a bound is passed; malformed text is left to the parser.
[[nodiscard]] std::optional<Failure> check_json_shape(std::string_view json,
                                                      const DecodeLimits& limits);

}  // namespace stratacache::codec
