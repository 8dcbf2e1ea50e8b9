#include "credentials/access_policy_cache.h"

#include <algorithm>
#include <cstdint>

namespace credgate::credentials {
namespace {

// Reports whether `weak` and `shared` share one control block, that is, refer to one object
// that has not been replaced.
bool SameOwner(const std::weak_ptr<const void>& weak, const std::shared_ptr<const void>& shared) {
  return !weak.owner_before(shared) && !shared.owner_before(weak);
}

}  // namespace

AccessDecisionCache::AccessDecisionCache(size_t max_entries)
    : max_entries_(std::max<size_t>(1, max_entries)) {}

AccessDecisionCache::Shard& AccessDecisionCache::ShardFor(const Key& key) const {
  return shards_[(KeyHash()(key) >> 7) % kShards];
}

bool AccessDecisionCache::Allowed(const std::shared_ptr<const void>& caller,
                                  const std::shared_ptr<const void>& connection) const {
  const Key key(caller.get(), connection.get());
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.entries.find(key);
  const bool allowed = found != shard.entries.end() && SameOwner(found->second.caller, caller) &&
                       SameOwner(found->second.connection, connection);
  ++(allowed ? shard.hits : shard.misses);
  return allowed;
}

void AccessDecisionCache::RememberAllowed(const std::shared_ptr<const void>& caller,
                                          const std::shared_ptr<const void>& connection) {
  const Key key(caller.get(), connection.get());
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.entries.find(key);
  if (found != shard.entries.end()) {
    found->second = Entry{caller, connection};
    return;
  }
  // A full cache still takes an entry into an empty shard, so that no shard stays empty for good.
  // That, and inserts into other shards passing the check at the same time, may exceed the bound
  // by at most kShards entries plus one per concurrent insert.
  if (entries_.load(std::memory_order_relaxed) >= max_entries_ && !shard.entries.empty()) {
    shard.entries.erase(shard.entries.begin());
  } else {
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
  shard.entries.emplace(key, Entry{caller, connection});
}

size_t AccessDecisionCache::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.entries.size();
  }
  return total;
}

AccessDecisionCache::Lookups AccessDecisionCache::CountLookups() const {
  Lookups lookups;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    lookups.hits += shard.hits;
    lookups.misses += shard.misses;
  }
  return lookups;
}

}  // namespace credgate::credentials
