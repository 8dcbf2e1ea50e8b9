#include "policy/value_cache.h"

namespace credgate::policy {

ValueCache::ValueCache(size_t max_entries, size_t max_string_bytes)
    : max_entries_(max_entries), max_string_bytes_(max_string_bytes) {}

std::optional<Value> ValueCache::Find(const std::string& key, TimePoint now) {
  std::lock_guard lock(mutex_);
  auto found = entries_.find(key);
  if (found == entries_.end()) return std::nullopt;
  if (now >= found->second.expires_at) {
    EraseLocked(found);
    return std::nullopt;
  }
  return found->second.value;
}

void ValueCache::Store(const std::string& key, Value value, std::chrono::seconds ttl,
                       TimePoint now) {
  const size_t bytes = value.is_string() ? value.AsString().size() : 0;
  if (bytes > max_string_bytes_ || ttl.count() <= 0) return;
  // A stored value may outlive its request by the whole ttl, so it keeps none of the request's
  // objects alive. An Authorization read in place would keep its connection's token set alive,
  // refresh token included.
  value = OwnedValue(std::move(value));
  std::lock_guard lock(mutex_);
  if (auto found = entries_.find(key); found != entries_.end()) EraseLocked(found);
  while (!order_.empty() &&
         (entries_.size() >= max_entries_ || string_bytes_ + bytes > max_string_bytes_)) {
    EraseLocked(entries_.find(order_.front()));
  }
  order_.push_back(key);
  entries_.emplace(key, Entry{std::move(value), now + ttl, bytes, std::prev(order_.end())});
  string_bytes_ += bytes;
}

void ValueCache::Remove(const std::string& key) {
  std::lock_guard lock(mutex_);
  if (auto found = entries_.find(key); found != entries_.end()) EraseLocked(found);
}

void ValueCache::EraseLocked(std::unordered_map<std::string, Entry>::iterator entry) {
  string_bytes_ -= entry->second.bytes;
  order_.erase(entry->second.order);
  entries_.erase(entry);
}

std::shared_ptr<ValueCache> ProcessValueCache() {
  static const std::shared_ptr<ValueCache> cache =
      std::make_shared<ValueCache>(10'000, 64 * 1024 * 1024);
  return cache;
}

}  // namespace credgate::policy
