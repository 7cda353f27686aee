// KeyNames: the names (prefix + body) of recorded keys by key hash, so that a key the predictor
// ranks by hash can be fetched again. Bounded; filled from the recorder's cold path.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace stratacache::store {

/// A key's name as stored: the namespace prefix and the body, concatenated.
struct KeyName {
  std::string full;
  std::uint32_t prefix_size = 0;
};

/// Hash -> name for at most `2 * capacity` keys; every method is thread-safe. `remember`
/// never blocks: when another thread holds the table it gives up (the key's next sampled
/// access tries again), as the recorder does with a busy slot; when the table is full, an
/// arbitrary name leaves for the new one. The owner trims the table back to `capacity` with
/// `retain`, keeping the names of the keys it still tracks.
class KeyNames {
 public:
  explicit KeyNames(std::size_t capacity) : capacity_(capacity) {}

  /// Remembers the name of `hash` unless it is known or the table is busy.
  void remember(std::uint64_t hash, std::string_view prefix, std::string_view body) noexcept;
  /// The name of `hash`, if remembered.
  [[nodiscard]] std::optional<KeyName> find(std::uint64_t hash) const;
  /// Drops every name whose hash `keep` refuses, once the table holds more than `capacity`.
  void retain(const std::function<bool(std::uint64_t)>& keep);
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Heap bytes held: nodes, buckets and names longer than the small-string buffer.
  [[nodiscard]] std::size_t bytes() const;
  /// Names that left a full table to make room for another.
  [[nodiscard]] std::uint64_t refused() const;

 private:
  std::size_t capacity_;
  mutable std::mutex lock_;
  std::unordered_map<std::uint64_t, KeyName> names_;
  std::uint64_t refused_ = 0;  // written under lock_ only (a busy table is not counted)
};

}  // namespace stratacache::store
