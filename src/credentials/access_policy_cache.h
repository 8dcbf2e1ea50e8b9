// AccessDecisionCache: the (caller, connection) pairs that MatchAccessPolicy() allowed, so that a
// caller seen again on the same connection skips the match and the copy of its claims.
//
// A caller is the identity object that the JWT validator's cache hands out for one token, and a
// connection is the immutable connection entry of the configuration snapshot. The configuration
// replaces a connection's entry whenever its access policies change, and the validator builds a
// new identity object for every token it verifies, so a changed policy or another token never
// matches an old pair. Entries hold weak references and compare owners (control blocks), which
// stay allocated while a weak reference exists, so a new object at a freed address never matches
// either. Denials are not cached: they are rare and each one is logged and counted.
//
// Thread-safe. Entries are spread over kShards shards, each a ClockTable behind its own mutex,
// which a lookup holds for one hash lookup and an eviction for at most two turns of the shard's
// clock hand. An insert into a full cache first evicts one entry of the next shard in turn, or
// of its own shard once that contains more than twice its even share. Entries of callers no
// longer seen thus leave every shard. Pairs that Allowed() found since the hand last passed
// them stay.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "common/clock_table.h"

namespace credgate::credentials {

class AccessDecisionCache {
 public:
  // `max_entries` bounds the whole cache. Inserts that run at the same time may each add an
  // entry after one eviction, so k of them may leave up to k - 1 entries more, which stay until
  // entries expire or are erased.
  explicit AccessDecisionCache(size_t max_entries);

  // Reports whether RememberAllowed() stored this pair of objects and has not evicted it since.
  bool Allowed(const std::shared_ptr<const void>& caller,
               const std::shared_ptr<const void>& connection) const;

  void RememberAllowed(const std::shared_ptr<const void>& caller,
                       const std::shared_ptr<const void>& connection);

  size_t size() const;

  // Lookups since construction: Allowed() calls that returned true (hits) and false (misses).
  struct Lookups {
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  Lookups CountLookups() const;

  static constexpr size_t kShards = 16;

 private:
  using Key = std::pair<const void*, const void*>;
  struct KeyHash {
    size_t operator()(const Key& key) const {
      const auto caller = reinterpret_cast<uintptr_t>(key.first);
      const auto connection = reinterpret_cast<uintptr_t>(key.second);
      return (caller >> 4) * 0x9e3779b97f4a7c15ULL ^ (connection >> 4);
    }
  };
  struct Entry {
    std::weak_ptr<const void> caller;
    std::weak_ptr<const void> connection;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::atomic<size_t> size{0};  // The table's size, written under `mutex`, read without it.
    ClockTable<Key, Entry, KeyHash> entries;
    // Counted under `mutex`, which Allowed() takes anyway, so counting adds no shared write.
    uint64_t hits = 0;
    uint64_t misses = 0;
  };

  Shard& ShardFor(const Key& key) const;
  // Evicts one entry with EvictFromShards(), `own` being the new key's shard, which evicts
  // itself once it contains more than twice its even share of the bound.
  void EvictFromNextShard(Shard& own);

  const size_t max_entries_;
  std::atomic<size_t> entries_{0};  // In all shards. Changed under the changing shard's mutex.
  std::atomic<size_t> next_victim_{0};  // The shard that evicts next, modulo kShards.
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace credgate::credentials
