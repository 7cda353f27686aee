// The contract every eviction policy keeps. Policies see only dense entry ids, key hashes and
// weights; the store owns keys, values and expiry. The same policy classes drive the store and
// the trace simulator, so a hit ratio measured on a trace is the one users get.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>

namespace stratacache::store {

/// Dense slot index of an entry inside one shard; reused after the entry leaves.
using EntryId = std::uint32_t;
/// Weight of an entry in the policy's unit (1 per entry, or bytes).
using Weight = std::uint64_t;

/// What the store calls on a policy. Ids are dense, so policies keep per-id state in vectors and
/// grow them on `on_insert`. `victim()` only chooses; the store then removes the entry and calls
/// `on_remove(id)` for it, as for explicit deletes and expiry.
template <class P>
concept EvictionPolicy =
    std::constructible_from<P, Weight> &&
    requires(P p, const P cp, EntryId id, std::uint64_t hash, Weight w) {
      { P::kName } -> std::convertible_to<std::string_view>;
      p.on_insert(id, hash, w);  // a new entry entered the store
      p.on_access(id, hash);     // a lookup hit
      p.on_miss(hash);           // a lookup found nothing (feeds frequency sketches)
      p.on_expect(hash);         // the key is predicted to be read (warming)
      p.on_update(id, hash, w);  // the entry's value was replaced; w is its new weight
      p.on_remove(id);           // the entry left (evicted, deleted, expired)
      { p.victim() } -> std::same_as<std::optional<EntryId>>;
      p.clear();
      { cp.weight() } -> std::same_as<Weight>;  // total weight the policy tracks
    };

}  // namespace stratacache::store
