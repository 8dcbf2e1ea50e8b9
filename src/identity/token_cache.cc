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

  Slot& slot = shard.slots[found->second];
  if (now >= slot.expires_at) {
    FreeSlot(shard, found->second);
    entries_.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (!slot.found) slot.found = true;
  last.cache_id = id_;
  last.token.assign(token);
  last.identity = slot.identity;
  return last.identity;
}

void TokenCache::FreeSlot(Shard& shard, uint32_t slot) {
  Slot& entry = shard.slots[slot];
  shard.index.erase(entry.digest);
  entry.identity.reset();
  entry.found = false;
  shard.free_slots.push_back(slot);
}

uint32_t TokenCache::Evict(Shard& shard) {
  // Ends within two turns: the first clears every mark, so the second meets an unmarked entry.
  for (;;) {
    if (shard.hand >= shard.slots.size()) shard.hand = 0;
    const auto slot = static_cast<uint32_t>(shard.hand++);
    Slot& entry = shard.slots[slot];
    if (!entry.identity) continue;  // Free.
    if (entry.found) {
      entry.found = false;
      continue;
    }
    shard.index.erase(entry.digest);
    return slot;
  }
}

void TokenCache::Insert(std::string_view token, std::shared_ptr<const CallerIdentity> identity,
                        TimePoint now) {
  if (now >= identity->expires_at) return;
  const Sha256Digest digest = Sha256(token);
  Shard& shard = ShardFor(digest);
  std::lock_guard lock(shard.mutex);
  if (auto found = shard.index.find(digest); found != shard.index.end()) {
    Slot& slot = shard.slots[found->second];
    slot.expires_at = identity->expires_at;
    slot.identity = std::move(identity);
    slot.found = true;
    return;
  }
  // A full cache still takes an entry into an empty shard, so that no shard stays empty for good.
  // That, and inserts into other shards passing the check at the same time, may exceed the bound
  // by at most kShards entries plus one per concurrent insert.
  uint32_t slot = 0;
  if (entries_.load(std::memory_order_relaxed) >= max_entries_ && !shard.index.empty()) {
    slot = Evict(shard);
  } else {
    entries_.fetch_add(1, std::memory_order_relaxed);
    if (!shard.free_slots.empty()) {
      slot = shard.free_slots.back();
      shard.free_slots.pop_back();
    } else {
      slot = static_cast<uint32_t>(shard.slots.size());
      shard.slots.emplace_back();
    }
  }
  Slot& entry = shard.slots[slot];
  entry.digest = digest;
  entry.expires_at = identity->expires_at;
  entry.identity = std::move(identity);
  entry.found = false;
  shard.index.emplace(digest, slot);
}

size_t TokenCache::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.index.size();
  }
  return total;
}

}  // namespace credgate::identity
