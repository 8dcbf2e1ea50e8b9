// DueIndex: the refresh scheduler's connections with a due time, found by connection key and
// read in due order.
//
// When a provider states a refresh token lifetime (Entra ID, Microsoft Graph and Google among the
// catalogue entries), nearly every connection has a due time, so this index counts towards the
// gateway's memory per connection. An entry is one heap block: the fields, an intrusive tree
// hook for the due order, and the key's characters after them. A flat hash set of entry pointers
// finds an entry by its key. With 20-character keys an entry takes about 115 B with its slot in
// the set, where a node-based hash map and a std::set of (due, key) took about 205 B. With
// 1,000,000 Google connections, bench/scale_bench.sh measured 938 B per connection for all the
// loaded state, against 1,028 B with the old index.
//
// Not thread-safe. Pointers and references to an entry stay valid until it is erased or the
// index is destroyed; Set() keeps the entry of an existing key.
#pragma once

#include <boost/intrusive/set.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/clock.h"
#include "common/keyed_set.h"
#include "credentials/model.h"

namespace credgate::credentials {

class DueIndex {
 public:
  // The scheduler's data of one connection.
  struct Fields {
    std::weak_ptr<const TokenSet> tokens;  // The token set that the due time was computed for.
    TimePoint due;
    TimePoint deadline;  // The access token's expiry when due before it, else TimePoint::max().
    float spread = 0;    // The connection's random fraction of the spread window, in [0, 1).
  };

  class Entry {
   public:
    std::string_view key() const { return KeyedSet<Entry>::KeyOf(*this); }
    const Fields& fields() const { return fields_; }

   private:
    friend class DueIndex;
    friend class KeyedSet<Entry>;
    explicit Entry(Fields fields) : fields_(std::move(fields)) {}

    boost::intrusive::set_member_hook<boost::intrusive::optimize_size<true>> by_due_;
    [[no_unique_address]] Fields fields_;
    uint32_t key_size_ = 0;
    // The key's characters follow the entry in the same block (KeyedSet).
  };

 private:
  struct ByDue {
    bool operator()(const Entry& a, const Entry& b) const { return a.fields_.due < b.fields_.due; }
  };
  using DueOrder = boost::intrusive::multiset<
      Entry, boost::intrusive::member_hook<Entry, decltype(Entry::by_due_), &Entry::by_due_>,
      boost::intrusive::compare<ByDue>, boost::intrusive::constant_time_size<true>>;

 public:
  using const_iterator = DueOrder::const_iterator;

  DueIndex() = default;
  ~DueIndex() { by_due_.clear(); }  // Unlinks the entries before by_key_ frees them.
  DueIndex(const DueIndex&) = delete;
  DueIndex& operator=(const DueIndex&) = delete;

  // Returns the entry of `key`, or null when the key is not indexed.
  const Entry* Find(std::string_view key) const;
  // Adds `key` with `fields`, or replaces the fields of its entry and moves the entry to its
  // place in the due order. Among entries with the same due time, an added or moved entry comes
  // last, and an entry whose due time did not change keeps its place.
  void Set(std::string_view key, Fields fields);
  // Removes `key` and returns true, or returns false when the key was not indexed.
  bool Erase(std::string_view key);

  size_t size() const { return by_due_.size(); }
  bool empty() const { return by_due_.empty(); }
  // Entries in due order, earliest first.
  const_iterator begin() const { return by_due_.begin(); }
  const_iterator end() const { return by_due_.end(); }

 private:
  // Declared first, so that it is destroyed after by_due_.
  KeyedSet<Entry> by_key_;
  DueOrder by_due_;
};

}  // namespace credgate::credentials
