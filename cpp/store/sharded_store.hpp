// ShardedStore: the L1 engine. Keys hash to a power-of-two number of shards, each with its own
// lock, entry slab, key index, timer wheel and eviction policy.
//
// Invariants per shard: an entry is live iff it is in the index; it is in the wheel iff it has
// a deadline; the policy tracks exactly the live entries; `count`/`bytes` sum the live entries.
// Expired entries are never returned: reads compare the deadline with the clock, and the wheel
// reclaims them on writes. Values leave through `dropped`, so no Value is destroyed under a lock.
// With a recorder, get/probe/set/erase log the access outside the shard lock (the recorder is
// lock-free and never blocks); with none, recording costs one predictable branch.
#pragma once

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <mutex>
#include <new>

#include "common/error.hpp"
#include "common/spin_lock.hpp"
#include "store/access_recorder.hpp"
#include "store/compact_key.hpp"
#include "store/eviction_policy.hpp"
#include "store/key_index.hpp"
#include "store/store.hpp"
#include "store/timer_wheel.hpp"
#include "store/unit_weights.hpp"

namespace stratacache::store {

/// Picks a power-of-two shard count that keeps every shard at >= 4096 capacity units.
[[nodiscard]] std::size_t default_shard_count(const StoreConfig& config) noexcept;
/// Throws kInvalidConfig unless the bounds and shard count are usable.
void validate_config(const StoreConfig& config);

template <class Value, EvictionPolicy Policy>
class ShardedStore final : public Store<Value> {
 public:
  explicit ShardedStore(const StoreConfig& config)
      : clock_(config.clock != nullptr ? config.clock : &SteadyClock::instance()),
        strict_(config.strict),
        recorder_(config.recorder),
        latencies_(config.latencies) {
    validate_config(config);
    const std::size_t n = config.shards != 0 ? config.shards : default_shard_count(config);
    const auto per_shard = [n](std::uint64_t total) {
      return total == 0 ? 0 : (total + n - 1) / n;
    };
    const std::uint64_t max_entries = per_shard(config.max_entries);
    const std::uint64_t max_bytes = per_shard(config.max_bytes);
    shards_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      shards_.push_back(std::make_unique<Shard>(max_entries, max_bytes, clock_->now()));
    }
    shard_shift_ = n == 1 ? 0 : 64 - static_cast<unsigned>(std::countr_zero(n));
  }

  // always_inline: callers that know the type (benchmarks, tests) inlined get before it grew
  // the recording branch, and GCC stops doing so on its own; virtual calls are unaffected.
  [[gnu::always_inline]] std::optional<Value> get(const KeyView& key, std::uint64_t hash) override {
    if (latencies_ != nullptr && latencies_->should_time()) [[unlikely]] {
      return timed(stats::Op::kGet, [&] { return get_untimed(key, hash); });
    }
    return get_untimed(key, hash);
  }

  std::optional<Value> probe(const KeyView& key, std::uint64_t hash) override {
    if (latencies_ != nullptr && latencies_->should_time()) [[unlikely]] {
      return timed(stats::Op::kGet, [&] { return probe_untimed(key, hash); });
    }
    return probe_untimed(key, hash);
  }

  std::optional<Value> peek(const KeyView& key, std::uint64_t hash) override {
    Shard& s = shard_for(hash);
    std::lock_guard guard(s.lock);
    const EntryId id = s.find(key, hash);
    if (id == kNoEntry || s.is_expired(id, *clock_)) return std::nullopt;
    return s.entries[id].value;
  }

  SetOutcome set(const KeyView& key, std::uint64_t hash, Value value, std::uint64_t bytes,
                 std::optional<Nanos> ttl, std::vector<Value>& dropped) override {
    if (latencies_ != nullptr && latencies_->should_time()) [[unlikely]] {
      return timed(stats::Op::kSet,
                   [&] { return set_untimed(key, hash, std::move(value), bytes, ttl, dropped); });
    }
    return set_untimed(key, hash, std::move(value), bytes, ttl, dropped);
  }

  bool erase(const KeyView& key, std::uint64_t hash, std::vector<Value>& dropped) override {
    if (latencies_ != nullptr && latencies_->should_time()) [[unlikely]] {
      return timed(stats::Op::kDelete, [&] { return erase_untimed(key, hash, dropped); });
    }
    return erase_untimed(key, hash, dropped);
  }

 private:
  [[gnu::always_inline]] std::optional<Value> get_untimed(const KeyView& key, std::uint64_t hash) {
    std::optional<Value> out;
    const stats::NamespaceSlot ns = slot_of(key);  // before the lock: a lookup may take a mutex
    {
      Shard& s = shard_for(hash);
      s.prefetch(hash);
      std::lock_guard guard(s.lock);
      const EntryId id = s.find(key, hash);
      if (id == kNoEntry || s.is_expired(id, *clock_)) {
        s.ns[ns].misses.add();
        s.policy.on_miss(hash);
      } else {
        s.ns[ns].hits.add();
        s.policy.on_access(id, hash);
        out.emplace(s.entries[id].value);  // a copy: for Python values, an incref, harmless
      }
    }
    if (recorder_ != nullptr && recorder_->sampled(hash)) [[unlikely]] {
      note(key, hash, out ? AccessOp::kGetHit : AccessOp::kGetMiss);
    }
    return out;
  }

  std::optional<Value> probe_untimed(const KeyView& key, std::uint64_t hash) {
    std::optional<Value> out;
    {
      Shard& s = shard_for(hash);
      std::lock_guard guard(s.lock);
      const EntryId id = s.find(key, hash);
      if (id == kNoEntry || s.is_expired(id, *clock_)) return std::nullopt;
      s.ns[s.entries[id].ns].hits.add();
      s.policy.on_access(id, hash);
      out.emplace(s.entries[id].value);
    }
    // Only hits: a miss is not an access yet, the caller falls back to `get`, which records it.
    if (recorder_ != nullptr && recorder_->sampled(hash)) [[unlikely]]
      note(key, hash, AccessOp::kGetHit);
    return out;
  }

  SetOutcome set_untimed(const KeyView& key, std::uint64_t hash, Value value, std::uint64_t bytes,
                         std::optional<Nanos> ttl, std::vector<Value>& dropped) {
    check_ttl(ttl);
    const stats::NamespaceSlot ns = slot_of(key);  // before the lock: a lookup may take a mutex
    // Before the lock, not after it: the record needs no outcome, and the body keeps its returns.
    if (recorder_ != nullptr && recorder_->sampled(hash)) [[unlikely]]
      note(key, hash, AccessOp::kSet);
    Shard& s = shard_for(hash);
    s.prefetch(hash);
    std::lock_guard guard(s.lock);
    // The clock only matters with a TTL to set or entries that have one (an entry is timed only
    // while the wheel holds it); reading it was a clock_gettime call on every set.
    const bool timed = ttl.has_value() || s.wheel.size() != 0;
    const Nanos now = timed ? clock_->now() : 0;
    if (timed) s.reclaim_expired(now, dropped);
    EntryId id = s.find(key, hash);
    if (ttl && *ttl == 0) {
      if (id != kNoEntry) s.remove(id, dropped, &Counters::evicted_expired);
      dropped.push_back(std::move(value));
      return SetOutcome::kExpired;
    }
    if ((s.max_bytes != 0 && bytes > s.max_bytes) || bytes > kMaxWeight) {
      if (id != kNoEntry) s.remove(id, dropped, &Counters::evicted_explicit);
      s.ns[ns].rejected.add();
      dropped.push_back(std::move(value));
      if (strict_) {
        throw Error(ErrorCode::kValueTooLarge,
                    too_heavy_message(bytes, s.max_bytes != 0 ? s.max_bytes : kMaxWeight));
      }
      return SetOutcome::kRejected;
    }
    const Nanos deadline = deadline_after(now, ttl);
    s.ns[ns].sets.add();
    SetOutcome outcome = SetOutcome::kInserted;
    if (id != kNoEntry) {
      if (s.is_expired(id, now)) {
        s.remove(id, dropped, &Counters::evicted_expired);
        id = kNoEntry;
      } else {
        s.replace(id, hash, std::move(value), bytes, deadline, dropped);
        outcome = SetOutcome::kReplaced;
      }
    }
    if (id == kNoEntry) s.insert(key, ns, hash, std::move(value), bytes, deadline);
    s.evict_to_bounds(dropped);
    return outcome;
  }

  bool erase_untimed(const KeyView& key, std::uint64_t hash, std::vector<Value>& dropped) {
    if (recorder_ != nullptr && recorder_->sampled(hash)) [[unlikely]]
      note(key, hash, AccessOp::kDelete);
    Shard& s = shard_for(hash);
    std::lock_guard guard(s.lock);
    const EntryId id = s.find(key, hash);
    if (id == kNoEntry) return false;
    const bool live = !s.is_expired(id, *clock_);
    s.remove(id, dropped, live ? &Counters::evicted_explicit : &Counters::evicted_expired);
    return live;
  }

  // Out of line and cold: with timing off or unsampled, the hot paths keep their code.
  template <class F>
  [[gnu::cold, gnu::noinline]] auto timed(stats::Op op, F&& call) {
    const std::uint64_t start = stats::Latencies::now_ns();
    auto result = call();
    latencies_->record(stats::Tier::kL1, op, stats::Latencies::now_ns() - start);
    return result;
  }

  [[nodiscard]] stats::NamespaceSlot slot_of(const KeyView& key) {
    return key.ns != stats::kUnresolvedSlot ? key.ns : namespaces_.slot(key.prefix);
  }

 public:
  bool contains(const KeyView& key, std::uint64_t hash) override {
    Shard& s = shard_for(hash);
    std::lock_guard guard(s.lock);
    const EntryId id = s.find(key, hash);
    return id != kNoEntry && !s.is_expired(id, *clock_);
  }

  bool expect(const KeyView& key, std::uint64_t hash) override {
    Shard& s = shard_for(hash);
    std::lock_guard guard(s.lock);
    const EntryId id = s.find(key, hash);
    s.policy.on_expect(hash);
    return id != kNoEntry && !s.is_expired(id, *clock_);
  }

  TtlInfo ttl(const KeyView& key, std::uint64_t hash) override {
    Shard& s = shard_for(hash);
    std::lock_guard guard(s.lock);
    const EntryId id = s.find(key, hash);
    const Nanos now = clock_->now();
    if (id == kNoEntry || s.is_expired(id, now)) return {};
    const Nanos deadline = s.deadline_of(id);
    if (deadline == 0) return {TtlInfo::State::kNoExpiry, 0};
    return {TtlInfo::State::kExpires, deadline - now};
  }

  bool touch(const KeyView& key, std::uint64_t hash, std::optional<Nanos> ttl,
             std::vector<Value>& dropped) override {
    check_ttl(ttl);
    Shard& s = shard_for(hash);
    std::lock_guard guard(s.lock);
    const EntryId id = s.find(key, hash);
    const Nanos now = clock_->now();
    if (id == kNoEntry || s.is_expired(id, now)) return false;
    if (ttl && *ttl == 0) {
      s.remove(id, dropped, &Counters::evicted_expired);
      return true;
    }
    s.set_deadline(id, deadline_after(now, ttl));
    return true;
  }

  std::size_t erase_prefix(std::string_view prefix, std::vector<Value>& dropped) override {
    std::size_t removed = 0;
    for (auto& sp : shards_) {
      Shard& s = *sp;
      std::lock_guard guard(s.lock);
      const Nanos now = clock_->now();
      for (EntryId id = 0; id < s.entries.size(); ++id) {
        Entry& e = s.entries[id];
        if (!e.live || !e.key.starts_with(prefix)) continue;
        if (s.is_expired(id, now)) {
          s.remove(id, dropped, &Counters::evicted_expired);
        } else {
          s.remove(id, dropped, &Counters::evicted_explicit);
          ++removed;
        }
      }
      s.compact_keys_if_due();
    }
    return removed;
  }

  std::size_t expire(std::vector<Value>& dropped) override {
    std::size_t removed = 0;
    for (auto& sp : shards_) {
      Shard& s = *sp;
      std::lock_guard guard(s.lock);
      const Nanos now = clock_->now();
      removed += s.reclaim_expired(now, dropped);
      for (EntryId id = 0; id < s.entries.size(); ++id) {
        if (s.entries[id].live && s.is_expired(id, now)) {
          s.remove(id, dropped, &Counters::evicted_expired);
          ++removed;
        }
      }
      s.compact_keys_if_due();
    }
    return removed;
  }

  std::vector<std::string> keys(std::string_view prefix) override {
    std::vector<std::string> out;
    for (auto& sp : shards_) {
      Shard& s = *sp;
      std::lock_guard guard(s.lock);
      const Nanos now = clock_->now();
      for (EntryId id = 0; id < s.entries.size(); ++id) {
        const Entry& e = s.entries[id];
        if (e.live && e.key.starts_with(prefix) && !s.is_expired(id, now))
          out.push_back(e.key.to_string());
      }
    }
    return out;
  }

  [[nodiscard]] StoreStats stats() const override {
    StoreStats t;
    for (const auto& sp : shards_) {
      const Shard& s = *sp;
      std::lock_guard guard(s.lock);
      stats::CounterTotals c;
      for (const Counters& n : s.ns) c.add(n);
      t.hits += c.hits;
      t.misses += c.misses;
      t.sets += c.sets;
      t.rejected += c.rejected;
      t.evicted_size += c.evicted_size;
      t.evicted_expired += c.evicted_expired;
      t.evicted_explicit += c.evicted_explicit;
      t.entries += s.count;
      t.bytes += s.bytes;
    }
    return t;
  }

  [[nodiscard]] std::vector<NamespaceStats> namespace_stats() const override {
    std::vector<NamespaceStats> out;
    for (stats::NamespaceEntry& e : namespaces_.entries()) {
      out.push_back({std::move(e.prefix), false, slot_stats(e.slot)});
    }
    StoreStats other = slot_stats(stats::kOverflowSlot);
    if (other.hits + other.misses + other.sets + other.rejected + other.entries != 0) {
      out.push_back({"", true, other});
    }
    return out;
  }

  [[nodiscard]] stats::NamespaceSlot namespace_slot(std::string_view prefix) override {
    return namespaces_.slot(prefix);
  }

  [[nodiscard]] stats::Latencies* latencies() const noexcept override { return latencies_; }

  [[nodiscard]] std::size_t size() const override {
    std::size_t n = 0;
    for (const auto& sp : shards_) {
      std::lock_guard guard(sp->lock);
      n += sp->count;
    }
    return n;
  }

  [[nodiscard]] std::size_t shard_count() const override { return shards_.size(); }
  [[nodiscard]] std::string_view policy_name() const override { return Policy::kName; }
  [[nodiscard]] AccessRecorder* recorder() const noexcept override { return recorder_; }

  [[nodiscard]] std::size_t overhead_bytes() const override {
    std::size_t n = 0;
    for (const auto& sp : shards_) {
      std::lock_guard guard(sp->lock);
      // size(), not capacity(): the reserved tail is address space, not memory, until written.
      n += sp->entries.size() * sizeof(Entry) + sp->weights.capacity_bytes() +
           sp->index.capacity_bytes() + sp->free.capacity() * sizeof(EntryId) + sp->keys.bytes() -
           sp->keys.live_bytes();
    }
    return n;
  }

 private:
  // Called with no lock held, for sampled keys only (the callers test `sampled` inline: most
  // keys are not, and a call per access would double the cost of recording at low rates). Out
  // of line and cold, so that with recording off the hot paths keep their code.
  using Counters = stats::NamespaceCounters;

  // One slot summed over shards; lock-free reads of single-writer counters.
  [[nodiscard]] StoreStats slot_stats(stats::NamespaceSlot slot) const {
    stats::CounterTotals c;
    for (const auto& sp : shards_) c.add(sp->ns[slot]);
    return {c.hits,
            c.misses,
            c.sets,
            c.rejected,
            c.evicted_size,
            c.evicted_expired,
            c.evicted_explicit,
            c.entries,
            c.bytes};
  }

  [[gnu::cold, gnu::noinline]] void note(const KeyView& key, std::uint64_t hash,
                                         AccessOp op) const noexcept {
    recorder_->record(hash, namespace_hash(key.prefix), op, clock_->now());
    // Names let the predictor's hot keys be fetched again; a delete needs none.
    if (KeyNames* names = recorder_->names(); names != nullptr && op != AccessOp::kDelete) {
      names->remember(hash, key.prefix, key.body);
    }
  }

  // 32 bytes with a pointer-sized Value (64 with a std::string key, before CompactKey; 48 with
  // the deadline, the whole hash and the weight kept here too). The deadline lives in the wheel,
  // the weight in `Shard::weights` (no array while every weight is 1), and of the hash only the
  // index's tag is kept, which is all that finds the entry's slot again.
  struct Entry {
    CompactKey key;
    Value value{};
    std::uint32_t tag = 0;  // the hash's low half: KeyIndex's tag
    stats::NamespaceSlot ns = stats::kOverflowSlot;
    bool live = false;
    bool timed = false;  // has a deadline, kept by the wheel: reads of untimed entries skip it
  };

  struct alignas(64) Shard {
    Shard(std::uint64_t max_entries_, std::uint64_t max_bytes_, Nanos now)
        : wheel(now),
          policy(max_entries_ != 0 ? max_entries_ : max_bytes_),
          max_entries(max_entries_),
          max_bytes(max_bytes_) {
      // A bounded entry count is known up front: reserve the per-entry arrays once (one entry
      // over the bound, held between an insert and its eviction). Growing by doubling left the
      // freed halves resident in the heap, 20-40 bytes per entry (bench_memory.py). Reserved
      // pages become resident only when written; past kReserveLimit the arrays grow as before.
      if (max_entries_ != 0 && max_entries_ < kReserveLimit) {
        const auto n = static_cast<std::size_t>(max_entries_) + 1;
        entries.reserve(n);
        if constexpr (requires { policy.reserve(n); }) policy.reserve(n);
      }
    }
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;
    ~Shard() {
      for (Entry& e : entries) e.key.clear(keys);
    }

    mutable SpinLock lock;
    KeySlab keys;  // the bytes of the long keys in `entries` (before it: destroyed after)
    std::vector<Entry> entries;
    UnitWeights<std::uint32_t> weights;  // by id; set() checks weights fit 32 bits
    std::vector<EntryId> free;
    KeyIndex index;
    TimerWheel wheel;
    Policy policy;
    std::uint64_t max_entries;
    std::uint64_t max_bytes;
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    // Written under `lock`, read by stats() without it (single-writer relaxed counters).
    std::array<Counters, stats::kMaxNamespaces> ns{};

    // The policy weighs entries in its capacity's unit: 1 each when counting entries, else bytes.
    [[nodiscard]] Weight policy_weight(std::uint64_t b) const noexcept {
      return max_entries != 0 ? 1 : b;
    }
    // The lines a get or set of `hash` reads first, asked for before the lock (PrefetchHint).
    [[gnu::always_inline]] void prefetch(std::uint64_t hash) const noexcept {
      index.prefetch(hash);
      if constexpr (requires { policy.prefetch(hash); }) policy.prefetch(hash);
    }
    // always_inline: GCC kept it out of line once the KeyView came by reference (a call per get).
    [[nodiscard, gnu::always_inline]] EntryId find(const KeyView& key,
                                                   std::uint64_t hash) const noexcept {
      return index.find(hash, [&](EntryId id) { return entries[id].key.equals(key); });
    }
    // 0: never expires.
    [[nodiscard]] Nanos deadline_of(EntryId id) const noexcept {
      return entries[id].timed ? wheel.deadline(id) : 0;
    }
    [[nodiscard]] bool is_expired(EntryId id, Nanos now) const noexcept {
      return entries[id].timed && wheel.deadline(id) <= now;
    }
    [[nodiscard]] bool is_expired(EntryId id, const Clock& clock) const noexcept {
      return entries[id].timed && wheel.deadline(id) <= clock.now();
    }

    void insert(const KeyView& key, stats::NamespaceSlot slot, std::uint64_t hash, Value value,
                std::uint64_t b, Nanos deadline) {
      EntryId id;
      if (!free.empty()) {
        id = free.back();
        free.pop_back();
      } else {
        if (entries.size() >= kNoEntry - 1)
          throw Error(ErrorCode::kInvalidConfig, "too many entries");
        id = static_cast<EntryId>(entries.size());
        entries.emplace_back();
      }
      if (key.size() > CompactKey::kInline) compact_keys_if_due();  // first: it moves keys
      Entry& e = entries[id];
      e.key.assign(key.prefix, key.body, keys);
      e.value = std::move(value);
      e.tag = static_cast<std::uint32_t>(hash);
      weights.set(id, b, entries.size());
      e.ns = slot;
      e.live = true;
      e.timed = deadline != 0;
      index.insert(hash, id);
      if (deadline != 0) wheel.schedule(id, deadline);
      policy.on_insert(id, hash, policy_weight(b));
      ++count;
      bytes += b;
      ns[slot].entries.add();
      ns[slot].bytes.add(b);
    }

    void replace(EntryId id, std::uint64_t hash, Value value, std::uint64_t b, Nanos deadline,
                 std::vector<Value>& dropped) {
      Entry& e = entries[id];
      dropped.push_back(std::move(e.value));
      e.value = std::move(value);
      const Weight old = weights[id];
      bytes = bytes - old + b;
      ns[e.ns].bytes.sub(old);
      ns[e.ns].bytes.add(b);
      weights.set(id, b, entries.size());
      set_deadline(id, deadline);
      policy.on_update(id, hash, policy_weight(b));
    }

    void set_deadline(EntryId id, Nanos deadline) {
      Entry& e = entries[id];
      if (e.timed) wheel.cancel(id);
      e.timed = deadline != 0;
      if (deadline != 0) wheel.schedule(id, deadline);
    }

    void remove(EntryId id, std::vector<Value>& dropped, stats::Counter Counters::*cause) {
      Entry& e = entries[id];
      index.erase(e.tag, id);
      if (e.timed) wheel.cancel(id);
      policy.on_remove(id);
      dropped.push_back(std::move(e.value));
      e.value = Value{};
      e.key.clear(keys);
      --count;
      const Weight w = weights[id];
      bytes -= w;
      Counters& c = ns[e.ns];
      c.entries.sub(1);
      c.bytes.sub(w);
      (c.*cause).add();
      e.live = false;
      e.timed = false;
      free.push_back(id);
    }

    // Free slab blocks nobody reuses (keys grew shorter or longer, or were deleted) go back once
    // they are worth the walk (KeySlab::wants_compaction); out of line, it is rare.
    void compact_keys_if_due() noexcept {
      if (keys.wants_compaction(entries.size())) [[unlikely]]
        compact_keys();
    }
    [[gnu::cold, gnu::noinline]] void compact_keys() noexcept {
      try {
        keys.compact([this](auto&& move) {
          for (Entry& e : entries) {
            if (e.key.in_slab_chunks()) e.key.relocate(move(e.key.block(), e.key.block_size()));
          }
        });
      } catch (const std::bad_alloc&) {
        // Nothing moved: the free blocks stay, for reuse or the next try.
      }
    }

    std::size_t reclaim_expired(Nanos now, std::vector<Value>& dropped) {
      if (wheel.size() == 0) return 0;
      std::size_t n = 0;
      wheel.advance(now, [&](EntryId id) {
        entries[id].timed = false;  // already unlinked from the wheel
        remove(id, dropped, &Counters::evicted_expired);
        ++n;
      });
      return n;
    }

    void evict_to_bounds(std::vector<Value>& dropped) {
      while ((max_entries != 0 && count > max_entries) || (max_bytes != 0 && bytes > max_bytes)) {
        const std::optional<EntryId> victim = policy.victim();
        if (!victim) break;
        remove(*victim, dropped, &Counters::evicted_size);
      }
    }
  };

  static constexpr std::uint64_t kMaxWeight = std::numeric_limits<std::uint32_t>::max();
  // Bounds above this per shard reserve nothing (a reservation is address space, not memory,
  // but not unlimited): 512 MiB of 32-byte entries.
  static constexpr std::uint64_t kReserveLimit = std::uint64_t{1} << 24;

  static void check_ttl(std::optional<Nanos> ttl) {
    if (ttl && *ttl < 0) throw Error(ErrorCode::kInvalidTtl, "ttl must be >= 0");
  }
  static Nanos deadline_after(Nanos now, std::optional<Nanos> ttl) noexcept {
    if (!ttl) return 0;
    // A TTL beyond the clock's range never expires.
    if (*ttl > std::numeric_limits<Nanos>::max() - now) return 0;
    return now + *ttl;
  }
  static std::string too_heavy_message(std::uint64_t bytes, std::uint64_t budget) {
    return "value weighs " + std::to_string(bytes) + " bytes, more than the shard budget of " +
           std::to_string(budget) + " bytes";
  }
  Shard& shard_for(std::uint64_t hash) noexcept {
    return shard_shift_ == 0 ? *shards_[0] : *shards_[hash >> shard_shift_];
  }

  const Clock* clock_;
  bool strict_;
  AccessRecorder* recorder_;     // borrowed (see StoreConfig); nullptr: recording is off
  stats::Latencies* latencies_;  // borrowed (see StoreConfig); nullptr: timing is off
  stats::NamespaceTable namespaces_;
  unsigned shard_shift_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace stratacache::store
