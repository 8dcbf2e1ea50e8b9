// TokenCache: validated caller identities keyed by the SHA-256 of their token, so that a token
// seen again skips JSON parsing and signature verification until it expires.
#pragma once

#include <array>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "identity/claims.h"

namespace credgate::identity {

// Thread-safe. Entries are spread over kShards shards, each an LRU list under its own mutex, so
// that concurrent lookups of different tokens rarely contend. Keys are digests, so the cache never
// stores a token.
class TokenCache {
 public:
  // `max_entries` bounds the whole cache, so each shard holds max_entries / kShards (at least 1).
  explicit TokenCache(size_t max_entries);

  // Returns the identity stored for `token` while now < its expires_at, else nullptr (and drops
  // an expired entry).
  std::shared_ptr<const CallerIdentity> Find(std::string_view token, TimePoint now);

  // Stores `identity` for `token` unless it has already expired. A full shard evicts its least
  // recently used entry.
  void Insert(std::string_view token, std::shared_ptr<const CallerIdentity> identity,
              TimePoint now);

  size_t size() const;

  static constexpr size_t kShards = 16;

 private:
  struct Entry {
    std::string digest;
    std::shared_ptr<const CallerIdentity> identity;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> lru;  // Most recently used first.
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
  };

  Shard& ShardFor(const std::string& digest);

  size_t max_entries_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace credgate::identity
