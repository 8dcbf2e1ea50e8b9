// ValueCache: the in-memory cache behind cache-lookup-value, cache-store-value and
// cache-remove-value. One instance serves every policy of the process, as APIM's internal cache
// serves every policy of a gateway. Gateways of a cluster do not share it.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "policy/value.h"

namespace credgate::policy {

// Thread-safe under one mutex. Bounded by entry count and by the bytes of string values; the
// oldest stored entry is dropped first.
class ValueCache {
 public:
  ValueCache(size_t max_entries, size_t max_string_bytes);

  // Returns the value stored for `key` while now < its expiry, else nullopt.
  std::optional<Value> Find(const std::string& key, TimePoint now);
  // Stores `value` for `key` until now + ttl, replacing an older value.
  void Store(const std::string& key, Value value, std::chrono::seconds ttl, TimePoint now);
  void Remove(const std::string& key);

 private:
  struct Entry {
    Value value;
    TimePoint expires_at;
    size_t bytes = 0;
    std::list<std::string>::iterator order;
  };
  void EraseLocked(std::unordered_map<std::string, Entry>::iterator entry);

  const size_t max_entries_;
  const size_t max_string_bytes_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> order_;  // Keys, oldest store first.
  size_t string_bytes_ = 0;
};

// Returns the process-wide cache: 10,000 entries and 64 MiB of strings at most.
std::shared_ptr<ValueCache> ProcessValueCache();

}  // namespace credgate::policy
