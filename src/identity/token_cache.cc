#include "identity/token_cache.h"

#include <algorithm>
#include <atomic>
#include <string>

namespace credgate::identity {

namespace {

// The last token that this thread found in a cache, and the identity found for it.
struct LastFound {
  uint64_t cache_id = 0;  // 0: empty. Ids start at 1.
  std::string token;
  std::shared_ptr<const CallerIdentity> identity;
};

LastFound& ThreadLastFound() {
  thread_local LastFound last;
  return last;
}

uint64_t NextCacheId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

TokenCache::TokenCache(size_t max_entries)
    : id_(NextCacheId()), max_entries_(std::max<size_t>(1, max_entries)) {}

TokenCache::Shard& TokenCache::ShardFor(const Sha256Digest& digest) {
  return shards_[digest[0] % kShards];
}

std::shared_ptr<const CallerIdentity> TokenCache::Find(std::string_view token, TimePoint now) {
  LastFound& last = ThreadLastFound();
  if (last.cache_id == id_ && last.token == token) {
    if (now < last.identity->expires_at) return last.identity;
    last = LastFound();  // Expired: the shard drops its entry below.
  }
  const Sha256Digest digest = Sha256(token);
  Shard& shard = ShardFor(digest);
  std::lock_guard lock(shard.mutex);
  Entry* entry = shard.entries.Find(digest);
  if (entry == nullptr) return nullptr;

  if (now >= entry->expires_at) {
    shard.entries.Erase(digest);
    shard.size.store(shard.entries.size(), std::memory_order_relaxed);
    entries_.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;
  }
  last.cache_id = id_;
  last.token.assign(token);
  last.identity = entry->identity;
  return last.identity;
}

void TokenCache::EvictFromNextShard(Shard& own) {
  const size_t turn = next_victim_.fetch_add(1, std::memory_order_relaxed);
  if (EvictFromShards(shards_, turn, own, max_entries_)) {
    entries_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void TokenCache::Insert(std::string_view token, std::shared_ptr<const CallerIdentity> identity,
                        TimePoint now) {
  if (now >= identity->expires_at) return;
  const Sha256Digest digest = Sha256(token);
  // Inserts running at the same time may all pass this check, so the cache may exceed its bound
  // (see the constructor). A token that two threads verified at once evicts one entry more than
  // needed.
  Shard& shard = ShardFor(digest);
  if (entries_.load(std::memory_order_relaxed) >= max_entries_) EvictFromNextShard(shard);
  const TimePoint expires_at = identity->expires_at;
  std::lock_guard lock(shard.mutex);
  if (shard.entries.Insert(digest, Entry{std::move(identity), expires_at})) {
    shard.size.store(shard.entries.size(), std::memory_order_relaxed);
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
}

size_t TokenCache::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.entries.size();
  }
  return total;
}

}  // namespace credgate::identity
