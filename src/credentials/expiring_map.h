// ExpiringMap: a bounded map from a random handle to a single-use value with an expiry time.
// Used by login_sessions.cc, consent_codes.cc and app/portal_oidc_sessions.cc. Not thread-safe:
// the owner locks around every call.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace credgate::credentials::internal {

template <typename Value>
class ExpiringMap {
 public:
  explicit ExpiringMap(size_t max_size) : max_size_(max_size) {}

  size_t size() const { return entries_.size(); }

  // Removes every entry that expired at or before `now`.
  void PurgeExpired(TimePoint now) {
    while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
      entries_.erase(by_expiry_.begin()->second);
      by_expiry_.erase(by_expiry_.begin());
    }
  }

  // Inserts `value` under `key` after purging expired entries. Returns false, inserting
  // nothing, when the map is full or `key` is already present.
  bool Insert(std::string key, Value value, TimePoint expires_at, TimePoint now) {
    PurgeExpired(now);
    if (entries_.size() >= max_size_ || entries_.contains(key)) return false;
    auto position = by_expiry_.emplace(expires_at, key);
    entries_.emplace(std::move(key), Entry{std::move(value), position});
    return true;
  }

  // Returns whether `key` has an entry that has not expired at `now`, keeping it.
  bool Contains(const std::string& key, TimePoint now) const {
    auto it = entries_.find(key);
    return it != entries_.end() && it->second.position->first > now;
  }

  // Returns the value under `key` when it has not expired at `now`, keeping it, or nullptr. The
  // pointer is valid until the next call that changes the map.
  const Value* Find(const std::string& key, TimePoint now) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.position->first <= now) return nullptr;
    return &it->second.value;
  }

  // Removes the entry under `key`. Returns whether one was present, expired or not.
  bool Erase(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    by_expiry_.erase(it->second.position);
    entries_.erase(it);
    return true;
  }

  enum class TakeStatus { kFound, kNotFound, kExpired };

  // Removes the entry under `key` and moves its value to `out` when it has not expired. An
  // expired entry is removed too, so each key is taken at most once.
  TakeStatus Take(const std::string& key, TimePoint now, std::optional<Value>& out) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return TakeStatus::kNotFound;
    const bool expired = it->second.position->first <= now;
    if (!expired) out.emplace(std::move(it->second.value));
    by_expiry_.erase(it->second.position);
    entries_.erase(it);
    return expired ? TakeStatus::kExpired : TakeStatus::kFound;
  }

 private:
  using ExpiryIndex = std::multimap<TimePoint, std::string>;
  struct Entry {
    Value value;
    typename ExpiryIndex::iterator position;
  };

  size_t max_size_;
  std::unordered_map<std::string, Entry> entries_;
  ExpiryIndex by_expiry_;
};

}  // namespace credgate::credentials::internal
