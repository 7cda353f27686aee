#include "store/key_names.hpp"

#include <new>

namespace stratacache::store {

void KeyNames::remember(std::uint64_t hash, std::string_view prefix,
                        std::string_view body) noexcept {
  // try_lock: the caller is a request path; a busy table costs this name, not a wait.
  std::unique_lock guard(lock_, std::try_to_lock);
  if (!guard.owns_lock()) return;
  if (names_.contains(hash)) return;
  // Full: an arbitrary name makes room. The model tracks the newest keys, so the newcomer's
  // name is the likelier to be asked for, and a hot key's is back at its next sampled access.
  if (names_.size() >= 2 * capacity_) {
    names_.erase(names_.begin());
    ++refused_;
  }
  try {
    std::string full;
    full.reserve(prefix.size() + body.size());
    full.append(prefix).append(body);
    names_.emplace(hash, KeyName{std::move(full), static_cast<std::uint32_t>(prefix.size())});
  } catch (const std::bad_alloc&) {
    ++refused_;
  }
}

std::optional<KeyName> KeyNames::find(std::uint64_t hash) const {
  std::lock_guard guard(lock_);
  const auto it = names_.find(hash);
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

void KeyNames::retain(const std::function<bool(std::uint64_t)>& keep) {
  std::lock_guard guard(lock_);
  if (names_.size() <= capacity_) return;
  std::erase_if(names_, [&](const auto& kv) { return !keep(kv.first); });
}

std::size_t KeyNames::size() const {
  std::lock_guard guard(lock_);
  return names_.size();
}

std::size_t KeyNames::bytes() const {
  std::lock_guard guard(lock_);
  // A node holds the pair and a next pointer; libstdc++ caches no hash for integer keys.
  constexpr std::size_t kNode = sizeof(std::pair<const std::uint64_t, KeyName>) + sizeof(void*);
  std::size_t n = names_.bucket_count() * sizeof(void*) + names_.size() * kNode;
  for (const auto& kv : names_) {
    if (kv.second.full.capacity() > 15) n += kv.second.full.capacity() + 1;
  }
  return n;
}

std::uint64_t KeyNames::refused() const {
  std::lock_guard guard(lock_);
  return refused_;
}

}  // namespace stratacache::store
