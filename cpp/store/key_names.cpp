#include "store/key_names.hpp"

#include <algorithm>
#include <new>

namespace stratacache::store {

bool KeyNames::Generation::contains(std::uint64_t hash) const noexcept {
  if (index.empty()) return false;
  for (std::size_t i = home(hash, index.size()); index[i] != 0; i = (i + 1) & (index.size() - 1)) {
    if (names.entries[index[i] - 1].first == hash) return true;
  }
  return false;
}

void KeyNames::Generation::insert(std::uint64_t hash, std::uint32_t ref) {
  auto& entries = names.entries;
  if (2 * (entries.size() + 1) > index.size()) {
    std::vector<std::uint32_t> grown(std::max<std::size_t>(16, 2 * index.size()), 0);
    for (std::size_t e = 0; e < entries.size(); ++e) {
      std::size_t i = home(entries[e].first, grown.size());
      while (grown[i] != 0) i = (i + 1) & (grown.size() - 1);
      grown[i] = static_cast<std::uint32_t>(e + 1);
    }
    index.swap(grown);
  }
  entries.emplace_back(hash, ref);  // may throw: the index does not hold it yet
  std::size_t i = home(hash, index.size());
  while (index[i] != 0) i = (i + 1) & (index.size() - 1);
  index[i] = static_cast<std::uint32_t>(entries.size());
}

std::size_t KeyNames::Generation::bytes() const noexcept {
  return names.arena.bytes() + names.entries.capacity() * sizeof(names.entries[0]) +
         index.capacity() * sizeof(index[0]);
}

void KeyNames::remember(std::uint64_t hash, std::string_view prefix,
                        std::string_view body) noexcept {
  // try_lock: the caller is a request path; a busy table costs this name, not a wait.
  std::unique_lock guard(lock_, std::try_to_lock);
  if (!guard.owns_lock()) return;
  if (newer_.contains(hash) || older_.contains(hash)) return;
  try {
    if (newer_.names.entries.size() >= capacity_) {
      refused_ += older_.names.entries.size();
      older_ = std::move(newer_);
      newer_ = Generation{};
    }
    const std::uint32_t ref = newer_.names.arena.add(prefix, body);
    if (ref == NameArena::kNone) {
      ++refused_;
      return;
    }
    newer_.insert(hash, ref);
  } catch (const std::bad_alloc&) {
    ++refused_;  // the arena may keep the bytes of a name no entry refers to: harmless
  }
}

std::array<StagedNames, 2> KeyNames::take() {
  Generation older;
  Generation newer;
  {
    std::lock_guard guard(lock_);
    std::swap(older, older_);
    std::swap(newer, newer_);
  }
  return {std::move(older.names), std::move(newer.names)};  // indexes freed outside the lock
}

std::size_t KeyNames::size() const {
  std::lock_guard guard(lock_);
  return newer_.names.entries.size() + older_.names.entries.size();
}

std::size_t KeyNames::bytes() const {
  std::lock_guard guard(lock_);
  return newer_.bytes() + older_.bytes();
}

std::uint64_t KeyNames::refused() const {
  std::lock_guard guard(lock_);
  return refused_;
}

}  // namespace stratacache::store
