#include "codec/decode_limits.hpp"

#include <algorithm>

namespace stratacache::codec {
namespace {

constexpr std::size_t kMinItems = std::size_t{64} << 10;
constexpr std::size_t kMinBytes = std::size_t{1} << 20;

bool is_delimiter(char c) noexcept {
  switch (c) {
    case ',':
    case ':':
    case '[':
    case ']':
    case '{':
    case '}':
    case '"':
    case ' ':
    case '\t':
    case '\n':
    case '\r':
      return true;
    default:
      return false;
  }
}

/// The index just past the closing quote of the string opening at `i`, or json.size().
std::size_t skip_string(std::string_view json, std::size_t i) noexcept {
  for (++i; i < json.size(); ++i) {
    if (json[i] == '\\') {
      ++i;
    } else if (json[i] == '"') {
      return i + 1;
    }
  }
  return json.size();
}

}  // namespace

DecodeLimits DecodeLimits::derived(std::size_t max_value_bytes, std::size_t max_depth) {
  return DecodeLimits{.max_items = std::max(max_value_bytes / 16, kMinItems),
                      .max_bytes = std::max(max_value_bytes * 2, kMinBytes),
                      .max_depth = max_depth};
}

Failure DecodeBudget::exceeded() const {
  if (items_passed_) {
    return fail(ErrorCode::kTooLarge, "codec: the value has more than max_items=" +
                                          std::to_string(limits_.max_items) + " elements");
  }
  return fail(ErrorCode::kTooLarge, "codec: the value builds more than max_decoded_bytes=" +
                                        std::to_string(limits_.max_bytes) + " bytes");
}

std::optional<Failure> check_json_shape(std::string_view json, const DecodeLimits& limits) {
  DecodeBudget budget(limits);
  std::size_t depth = 0;
  std::size_t i = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == '[' || c == '{') {
      if (++depth > limits.max_depth) {
        return fail(ErrorCode::kTooLarge,
                    "codec: JSON nested deeper than max_depth=" + std::to_string(limits.max_depth));
      }
      if (!budget.charge(1, kContainerCost)) return budget.exceeded();
      ++i;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
      ++i;
    } else if (c == '"') {
      const std::size_t end = skip_string(json, i);
      if (!budget.charge(1, end - i)) return budget.exceeded();
      i = end;
    } else if (is_delimiter(c)) {
      ++i;
    } else {
      const std::size_t start = i;
      while (i < json.size() && !is_delimiter(json[i])) ++i;
      if (!budget.charge(1, i - start)) return budget.exceeded();
    }
  }
  return std::nullopt;
}

}  // namespace stratacache::codec
