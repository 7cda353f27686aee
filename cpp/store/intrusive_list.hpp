// Doubly-linked lists of entry ids with links kept in an external array: the building block
// of LRU queues, FIFO queues and timer-wheel buckets, with no allocation per node.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "store/eviction_policy.hpp"

namespace stratacache::store {

inline constexpr EntryId kNoEntry = std::numeric_limits<EntryId>::max();

/// Per-id prev/next links shared by all lists of one owner (an id is in at most one list).
struct Links {
  struct Node {
    EntryId prev = kNoEntry;
    EntryId next = kNoEntry;
  };
  std::vector<Node> nodes;

  void ensure(EntryId id) {
    // Exactly id + 1: the vector's capacity grows geometrically on its own, and its untouched
    // tail stays out of the resident set, where a resize past id would write (and keep) it.
    if (id >= nodes.size()) nodes.resize(static_cast<std::size_t>(id) + 1);
  }
};

/// One list over `Links`: head is the oldest (next victim), tail the newest. The link updates
/// are always_inline: a hit's move to the back is a few loads and stores, and GCC had stopped
/// inlining it into the store (a call per LRU hit, to a `.part` clone).
class IdList {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == kNoEntry; }
  [[nodiscard]] EntryId head() const noexcept { return head_; }
  [[nodiscard]] EntryId tail() const noexcept { return tail_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  [[gnu::always_inline]] void push_back(Links& links, EntryId id) noexcept {
    auto& n = links.nodes[id];
    n.prev = tail_;
    n.next = kNoEntry;
    if (tail_ != kNoEntry) {
      links.nodes[tail_].next = id;
    } else {
      head_ = id;
    }
    tail_ = id;
    ++size_;
  }

  [[gnu::always_inline]] void unlink(Links& links, EntryId id) noexcept {
    auto& n = links.nodes[id];
    if (n.prev != kNoEntry) {
      links.nodes[n.prev].next = n.next;
    } else {
      head_ = n.next;
    }
    if (n.next != kNoEntry) {
      links.nodes[n.next].prev = n.prev;
    } else {
      tail_ = n.prev;
    }
    n.prev = n.next = kNoEntry;
    --size_;
  }

  [[gnu::always_inline]] void move_to_back(Links& links, EntryId id) noexcept {
    if (tail_ == id) return;
    unlink(links, id);
    push_back(links, id);
  }

  EntryId pop_front(Links& links) noexcept {
    const EntryId id = head_;
    if (id != kNoEntry) unlink(links, id);
    return id;
  }

  void reset() noexcept {
    head_ = tail_ = kNoEntry;
    size_ = 0;
  }

 private:
  EntryId head_ = kNoEntry;
  EntryId tail_ = kNoEntry;
  std::size_t size_ = 0;
};

}  // namespace stratacache::store
