// NamespaceTable: maps key prefixes (namespaces) to a bounded number of counter slots.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stratacache::stats {

/// Index of a namespace's counters.
using NamespaceSlot = std::uint16_t;
/// Slots per table, the overflow slot included.
inline constexpr std::size_t kMaxNamespaces = 64;
/// Where every namespace beyond the first kMaxNamespaces - 1 is counted.
inline constexpr NamespaceSlot kOverflowSlot = 0;
/// "Not resolved yet": the store looks the prefix up.
inline constexpr NamespaceSlot kUnresolvedSlot = 0xFFFF;

/// One registered namespace.
struct NamespaceEntry {
  std::string prefix;
  NamespaceSlot slot = kOverflowSlot;
};

/// Prefix -> slot, first come first served. Thread-safe; lookups take a mutex, so hot callers
/// resolve their slot once (a getter bound to one namespace) and pass it along.
class NamespaceTable {
 public:
  /// The slot of `prefix`, registering it if there is room, else kOverflowSlot.
  [[nodiscard]] NamespaceSlot slot(std::string_view prefix);
  /// Registered namespaces in slot order (the overflow slot is not listed).
  [[nodiscard]] std::vector<NamespaceEntry> entries() const;
  /// Lookups answered with the overflow slot because the table was full.
  [[nodiscard]] std::uint64_t overflowed() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, NamespaceSlot, Hash, std::equal_to<>> slots_;
  std::uint64_t overflowed_ = 0;
};

}  // namespace stratacache::stats
