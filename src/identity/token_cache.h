// TokenCache: validated caller identities keyed by the SHA-256 of their token, so that a token
// seen again skips JSON parsing and signature verification until it expires.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>
#include <type_traits>

#include "common/clock.h"
#include "common/clock_table.h"
#include "common/hash.h"
#include "identity/claims.h"

namespace credgate::identity {

// Thread-safe. Entries are spread over kShards shards, each a ClockTable under its own mutex, so
// that concurrent lookups of different tokens rarely contend. Keys are digests, so the shards
// never store a token. An insert into a full cache first evicts, with the clock algorithm, one
// entry of the next shard in turn, or of the new token's shard once that contains more than twice
// its even share. The entries of tokens no longer sent thus leave every shard, and the shards'
// sizes follow where new tokens go.
// A hit marks its entry only when it reaches the shard, not when it takes the thread's memo.
//
// Each thread also remembers the last token that it found, with its identity, because a client
// usually sends the same token on every request of a keep-alive connection. Finding that token
// again skips the digest and the shard's mutex. The memo keeps a copy of that one token in the
// thread's memory, as the connection's read buffer does. It names its cache by a process-unique
// id, so a cache built at the address of a destroyed one never returns the old one's identity.
class TokenCache {
 public:
  // `max_entries` bounds the whole cache. Inserts that run at the same time may each add an
  // entry after one eviction, so k of them may leave up to k - 1 entries more, which stay until
  // entries expire or are erased.
  explicit TokenCache(size_t max_entries);

  // The bound of the trusted issuers' cache and of each validate-jwt statement's cache. With more
  // distinct callers than this within their tokens' lifetimes, tokens are evicted and their
  // signatures verified again.
  static constexpr size_t kDefaultMaxEntries = 10'000;

  // Returns the identity stored for `token` while now < its expires_at, else nullptr (and drops
  // an expired entry). The token this thread found last is compared before any hashing.
  std::shared_ptr<const CallerIdentity> Find(std::string_view token, TimePoint now);

  // Stores `identity` for `token` unless it has already expired. In a full cache it first evicts
  // one entry.
  void Insert(std::string_view token, std::shared_ptr<const CallerIdentity> identity,
              TimePoint now);

  size_t size() const;

  static constexpr size_t kShards = 16;

 private:
  struct Entry {
    std::shared_ptr<const CallerIdentity> identity;
    TimePoint expires_at;  // A copy of identity->expires_at, read without following the pointer.
  };
  // SHA-256 output is uniform, so its first bytes are a good hash as they are.
  struct DigestHash {
    using is_avalanching = std::true_type;
    size_t operator()(const Sha256Digest& digest) const {
      size_t hash;
      std::memcpy(&hash, digest.data() + 1, sizeof(hash));
      return hash;
    }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::atomic<size_t> size{0};  // The table's size, written under `mutex`, read without it.
    ClockTable<Sha256Digest, Entry, DigestHash> entries;
  };

  Shard& ShardFor(const Sha256Digest& digest);
  // Evicts one entry with EvictFromShards(), `own` being the new key's shard, which evicts
  // itself once it contains more than twice its even share of the bound.
  void EvictFromNextShard(Shard& own);

  const uint64_t id_;  // Process-unique, for the thread's memo.
  const size_t max_entries_;
  std::atomic<size_t> entries_{0};  // In all shards. Changed under the changing shard's mutex.
  std::atomic<size_t> next_victim_{0};  // The shard that evicts next, modulo kShards.
  std::array<Shard, kShards> shards_;
};

}  // namespace credgate::identity
