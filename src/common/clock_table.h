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
#include <cstddef>
#include <cstdint>
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
    uint32_t number = 0;
    if (!free_.empty()) {
      number = free_.back();
      free_.pop_back();
    } else {
      number = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& slot = slots_[number];
    slot.key = key;
    slot.value = std::move(value);
    slot.marked = false;
    index_.emplace(key, number);
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

}  // namespace credgate
