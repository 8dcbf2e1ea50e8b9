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
  const Entry* found = shard.entries.Find(key);
  const bool allowed = found != nullptr && SameOwner(found->caller, caller) &&
                       SameOwner(found->connection, connection);
  ++(allowed ? shard.hits : shard.misses);
  return allowed;
}

void AccessDecisionCache::EvictFromNextShard(Shard& own) {
  const size_t turn = next_victim_.fetch_add(1, std::memory_order_relaxed);
  if (EvictFromShards(shards_, turn, own, max_entries_)) {
    entries_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void AccessDecisionCache::RememberAllowed(const std::shared_ptr<const void>& caller,
                                          const std::shared_ptr<const void>& connection) {
  // Inserts running at the same time may all pass this check, so the cache may exceed its bound
  // (see the constructor). A pair already stored, after two threads matched it at once or after
  // a new object took a freed object's address, costs one eviction too many.
  const Key key(caller.get(), connection.get());
  Shard& shard = ShardFor(key);
  if (entries_.load(std::memory_order_relaxed) >= max_entries_) EvictFromNextShard(shard);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.Insert(key, Entry{caller, connection})) {
    shard.size.store(shard.entries.size(), std::memory_order_relaxed);
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
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
