// ClockTable<Key, Value, Hash>: a hash table for caches whose owner bounds the size, with an
// eviction that approximates least recently used by the clock algorithm.
//
// Entries live in an array of slots, found through an open-addressing table from key to slot
// number. Find() marks the slot it returns. EvictOne() moves a hand over the slots in turn and
// clears each mark it meets, until it reaches an unmarked entry, which it removes. A hit thus
// reads the table and one slot and moves nothing, where a list in recency order would relink
// its neighbours on every hit. A new entry starts unmarked, so entries that are never found
// again go first: a flood of keys used once evicts its own entries before any entry found
// since the hand last passed it.
//
// Not thread-safe. A pointer returned by Find() stays valid until the next call that changes
// the table.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace credgate {

template <typename Key, typename Value, typename Hash>
class ClockTable {
 public:
  // Returns the value stored under `key` and marks its slot, or null.
  Value* Find(const Key& key) {
    auto found = index_.find(key);
    if (found == index_.end()) return nullptr;
    Slot& slot = slots_[found->second];
    if (!slot.marked) slot.marked = true;
    return &*slot.value;
  }

  // Stores `value` under `key`. Replacing the value of a stored key also marks its slot. Returns
  // true when the table gained an entry.
  bool Insert(const Key& key, Value value) {
    if (auto found = index_.find(key); found != index_.end()) {
      Slot& slot = slots_[found->second];
      slot.value = std::move(value);
      slot.marked = true;
      return false;
    }
    // The index takes the key before the slot takes the value, so a throwing allocation leaves
    // the slot free: on the free list, or appended and skipped by EvictOne().
    const bool reuse = !free_.empty();
    const uint32_t number = reuse ? free_.back() : static_cast<uint32_t>(slots_.size());
    if (!reuse) slots_.emplace_back();
    index_.emplace(key, number);
    if (reuse) free_.pop_back();
    Slot& slot = slots_[number];
    slot.key = key;
    slot.value = std::move(value);
    slot.marked = false;
    return true;
  }

  // Removes the entry of `key`. Returns false when there was none.
  bool Erase(const Key& key) {
    auto found = index_.find(key);
    if (found == index_.end()) return false;
    const uint32_t number = found->second;
    index_.erase(found);
    Free(number);
    return true;
  }

  // Removes the entry that the clock hand selects. Returns false when the table is empty.
  bool EvictOne() {
    if (index_.empty()) return false;
    // Ends within two turns of the hand: the first clears every mark, so the second meets an
    // unmarked entry.
    for (;;) {
      if (hand_ >= slots_.size()) hand_ = 0;
      const auto number = static_cast<uint32_t>(hand_++);
      Slot& slot = slots_[number];
      if (!slot.value) continue;  // A free slot.
      if (slot.marked) {
        slot.marked = false;
        continue;
      }
      index_.erase(slot.key);
      Free(number);
      return true;
    }
  }

  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }

 private:
  struct Slot {
    Key key{};
    std::optional<Value> value;  // Empty in a free slot.
    bool marked = false;         // Set by Find() and by Insert() of a stored key.
  };

  void Free(uint32_t number) {
    slots_[number].value.reset();
    slots_[number].marked = false;
    free_.push_back(number);
  }

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;  // Numbers of the free slots.
  boost::unordered_flat_map<Key, uint32_t, Hash> index_;
  size_t hand_ = 0;  // The slot that EvictOne() examines next.
};

// Evicts one entry from a cache sharded over `shards`, whose Shard type has `mutex`, a ClockTable
// `entries` guarded by it, and `std::atomic<size_t> size` that mirrors entries.size(). `own` is
// the shard of the key about to be inserted. The victim is the shard that `turn` names, so each
// shard gives up entries in its turn and the shards' sizes follow where new keys go. When `own`
// already contains more than twice its even share of `max_entries`, `own` is the victim instead,
// so a stream of keys that are each used once cannot grow one shard without bound. When the
// victim is empty the next non-empty shard evicts. Locks one shard at a time. Returns false when
// every shard was empty.
template <typename Shard, size_t kShards>
bool EvictFromShards(std::array<Shard, kShards>& shards, size_t turn, Shard& own,
                     size_t max_entries) {
  // Twice the even share is far above the unevenness of hashing 10,000 or more keys.
  const size_t own_limit = 2 * max_entries / kShards + 2;
  Shard* first = &shards[turn % kShards];
  if (own.size.load(std::memory_order_relaxed) >= own_limit) first = &own;
  for (size_t offset = 0; offset < kShards; ++offset) {
    Shard& shard = offset == 0 ? *first : shards[(turn + offset) % kShards];
    std::lock_guard lock(shard.mutex);
    if (shard.entries.EvictOne()) {
      shard.size.store(shard.entries.size(), std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

}  // namespace credgate
