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
  auto found = shard.index.find(digest);
  if (found == shard.index.end()) return nullptr;

  if (now >= found->second->identity->expires_at) {
    shard.lru.erase(found->second);
    shard.index.erase(found);
    entries_.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  last.cache_id = id_;
  last.token.assign(token);
  last.identity = found->second->identity;
  return last.identity;
}

void TokenCache::Insert(std::string_view token, std::shared_ptr<const CallerIdentity> identity,
                        TimePoint now) {
  if (now >= identity->expires_at) return;
  const Sha256Digest digest = Sha256(token);
  Shard& shard = ShardFor(digest);
  std::lock_guard lock(shard.mutex);
  if (auto found = shard.index.find(digest); found != shard.index.end()) {
    found->second->identity = std::move(identity);
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
    return;
  }
  // A full cache still takes an entry into an empty shard, so that no shard stays empty for good.
  // That, and inserts into other shards passing the check at the same time, may exceed the bound
  // by at most kShards entries plus one per concurrent insert.
  if (entries_.load(std::memory_order_relaxed) >= max_entries_ && !shard.lru.empty()) {
    shard.index.erase(shard.lru.back().digest);
    shard.lru.pop_back();
  } else {
    entries_.fetch_add(1, std::memory_order_relaxed);
  }
  shard.lru.push_front(Entry{digest, std::move(identity)});
  shard.index.emplace(digest, shard.lru.begin());
}

size_t TokenCache::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.lru.size();
  }
  return total;
}

}  // namespace credgate::identity
