// TokenCache: validated caller identities keyed by the SHA-256 of their token, so that a token
// seen again skips JSON parsing and signature verification until it expires.
#pragma once

#include <array>
#include <atomic>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/hash.h"
#include "identity/claims.h"

namespace credgate::identity {

// Thread-safe. Entries are spread over kShards shards, each under its own mutex, so that
// concurrent lookups of different tokens rarely contend. Keys are digests, so the shards never
// store a token.
//
// A shard keeps its entries in an array of slots and finds them through an open-addressing table
// from digest to slot number. A full shard evicts with the clock algorithm, an approximation of
// least recently used. A hit marks its slot. The eviction hand passes over the slots in turn and
// clears each mark it meets, until it reaches an unmarked slot, whose entry it evicts. A hit thus
// reads the table and one slot and moves nothing, where a list in recency order would relink
// neighbours.
// A new entry starts unmarked, so when tokens that are each sent once flood a full shard, the hand
// evicts them before any entry found again since the hand last passed it.
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
  // full cache evicts an entry of its own shard, one not found since the hand last passed it.
  explicit TokenCache(size_t max_entries);

  // The bound of the trusted issuers' cache and of each validate-jwt statement's cache. With more
  // distinct callers than this within their tokens' lifetimes, tokens are evicted and their
  // signatures verified again.
  static constexpr size_t kDefaultMaxEntries = 10'000;

  // Returns the identity stored for `token` while now < its expires_at, else nullptr (and drops
  // an expired entry). The token this thread found last is compared before any hashing.
  std::shared_ptr<const CallerIdentity> Find(std::string_view token, TimePoint now);

  // Stores `identity` for `token` unless it has already expired. In a full cache the token's
  // shard evicts one entry.
  void Insert(std::string_view token, std::shared_ptr<const CallerIdentity> identity,
              TimePoint now);

  size_t size() const;

  static constexpr size_t kShards = 16;

 private:
  struct Slot {
    Sha256Digest digest;
    std::shared_ptr<const CallerIdentity> identity;  // Null in a free slot.
    TimePoint expires_at;  // A copy of identity->expires_at, read without following the pointer.
    bool found = false;    // Set by a hit, cleared by the eviction hand.
  };
  // SHA-256 output is uniform, so its first bytes are a good hash as they are.
  struct DigestHash {
    using is_avalanching = void;
    size_t operator()(const Sha256Digest& digest) const {
      size_t hash;
      std::memcpy(&hash, digest.data() + 1, sizeof(hash));
      return hash;
    }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::vector<Slot> slots;
    std::vector<uint32_t> free_slots;  // Numbers of the slots without an identity.
    boost::unordered_flat_map<Sha256Digest, uint32_t, DigestHash> index;  // Digest to slot.
    size_t hand = 0;  // The next slot that the eviction hand examines.
  };

  // Removes the entry in `slot` of `shard` from its index and frees the slot.
  static void FreeSlot(Shard& shard, uint32_t slot);
  // Advances the hand of a non-empty `shard` to an unmarked entry and returns its slot number,
  // after removing that entry from the index. The slot keeps its place for the caller to reuse.
  static uint32_t Evict(Shard& shard);

  Shard& ShardFor(const Sha256Digest& digest);

  const uint64_t id_;  // Process-unique, for the thread's memo.
  const size_t max_entries_;
  std::atomic<size_t> entries_{0};  // In all shards. Changed under the changing shard's mutex.
  std::array<Shard, kShards> shards_;
};

}  // namespace credgate::identity
