#include "stats/namespace_table.hpp"

#include <algorithm>

namespace stratacache::stats {

NamespaceSlot NamespaceTable::slot(std::string_view prefix) {
  std::lock_guard guard(mutex_);
  if (auto it = slots_.find(prefix); it != slots_.end()) return it->second;
  if (slots_.size() + 1 >= kMaxNamespaces) {
    ++overflowed_;
    return kOverflowSlot;
  }
  const auto slot = static_cast<NamespaceSlot>(slots_.size() + 1);
  slots_.emplace(std::string(prefix), slot);
  return slot;
}

std::vector<NamespaceEntry> NamespaceTable::entries() const {
  std::vector<NamespaceEntry> out;
  {
    std::lock_guard guard(mutex_);
    out.reserve(slots_.size());
    for (const auto& [prefix, slot] : slots_) out.push_back({prefix, slot});
  }
  std::ranges::sort(out, {}, &NamespaceEntry::slot);
  return out;
}

std::uint64_t NamespaceTable::overflowed() const {
  std::lock_guard guard(mutex_);
  return overflowed_;
}

}  // namespace stratacache::stats
