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
    : max_entries_per_shard_(std::max<size_t>(1, max_entries / kShards)) {}

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
  if (found == shard.entries.end() && shard.entries.size() >= max_entries_per_shard_) {
    shard.entries.erase(shard.entries.begin());
  }
  shard.entries.insert_or_assign(key, Entry{caller, connection});
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
