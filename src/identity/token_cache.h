// TokenCache: validated caller identities keyed by the SHA-256 of their token, so that a token
// seen again skips JSON parsing and signature verification until it expires.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/hash.h"
#include "identity/claims.h"

namespace credgate::identity {

// Thread-safe. Entries are spread over kShards shards, each an LRU list under its own mutex, so
// that concurrent lookups of different tokens rarely contend. Keys are digests, so the shards
// never store a token.
//
// Each thread also remembers the last token that it found, with its identity, because a client
// usually sends the same token on every request of a keep-alive connection. Finding that token
// again skips the digest and the shard's mutex. The memo keeps a copy of that one token in the
// thread's memory, as the connection's read buffer does. It names its cache by a process-unique
// id, so a cache built at the address of a destroyed one never returns the old one's identity.
class TokenCache {
 public:
  // `max_entries` bounds the whole cache, give or take kShards entries. Shards fill unevenly,
  // because a token's digest picks its shard, so the bound is kept across them: an insert into a
  // full cache evicts the least recently used entry of its own shard.
  explicit TokenCache(size_t max_entries);

  // The bound of the trusted issuers' cache and of each validate-jwt statement's cache. With more
  // distinct callers than this within their tokens' lifetimes, tokens are evicted and their
  // signatures verified again.
  static constexpr size_t kDefaultMaxEntries = 10'000;

  // Returns the identity stored for `token` while now < its expires_at, else nullptr (and drops
  // an expired entry). The token this thread found last is compared before any hashing.
  std::shared_ptr<const CallerIdentity> Find(std::string_view token, TimePoint now);

  // Stores `identity` for `token` unless it has already expired. A full shard evicts its least
  // recently used entry.
  void Insert(std::string_view token, std::shared_ptr<const CallerIdentity> identity,
              TimePoint now);

  size_t size() const;

  static constexpr size_t kShards = 16;

 private:
  struct Entry {
    Sha256Digest digest;
    std::shared_ptr<const CallerIdentity> identity;
  };
  // SHA-256 output is uniform, so its first bytes are a good bucket hash as they are.
  struct DigestHash {
    size_t operator()(const Sha256Digest& digest) const {
      size_t hash;
      std::memcpy(&hash, digest.data() + 1, sizeof(hash));
      return hash;
    }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> lru;  // Most recently used first.
    std::unordered_map<Sha256Digest, std::list<Entry>::iterator, DigestHash> index;
  };

  Shard& ShardFor(const Sha256Digest& digest);

  const uint64_t id_;  // Process-unique, for the thread's memo.
  const size_t max_entries_;
  std::atomic<size_t> entries_{0};  // In all shards. Changed under the changing shard's mutex.
  std::array<Shard, kShards> shards_;
};

}  // namespace credgate::identity
