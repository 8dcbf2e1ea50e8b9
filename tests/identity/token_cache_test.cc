#include "identity/token_cache.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "common/hash.h"

namespace credgate::identity {
namespace {

const TimePoint kNow = FromUnixSeconds(1'800'000'000);

std::shared_ptr<const CallerIdentity> IdentityExpiringAt(TimePoint expires_at) {
  auto identity = std::make_shared<CallerIdentity>();
  identity->object_id = "object-1";
  identity->expires_at = expires_at;
  return identity;
}

TEST(TokenCache, FindsInsertedIdentity) {
  TokenCache cache(100);
  auto identity = IdentityExpiringAt(kNow + std::chrono::seconds(60));
  cache.Insert("token-a", identity, kNow);
  EXPECT_EQ(cache.Find("token-a", kNow), identity);
  EXPECT_EQ(cache.Find("token-b", kNow), nullptr);
}

TEST(TokenCache, DropsEntryAtExpiry) {
  TokenCache cache(100);
  cache.Insert("token-a", IdentityExpiringAt(kNow + std::chrono::seconds(60)), kNow);
  EXPECT_NE(cache.Find("token-a", kNow + std::chrono::seconds(59)), nullptr);
  EXPECT_EQ(cache.Find("token-a", kNow + std::chrono::seconds(60)), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCache, SkipsExpiredInsert) {
  TokenCache cache(100);
  cache.Insert("token-a", IdentityExpiringAt(kNow), kNow);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCache, StaysWithinBound) {
  TokenCache cache(TokenCache::kShards * 4);
  for (int i = 0; i < 1000; ++i) {
    cache.Insert("token-" + std::to_string(i), IdentityExpiringAt(kNow + std::chrono::hours(1)),
                 kNow);
  }
  EXPECT_EQ(cache.size(), TokenCache::kShards * 4);
  EXPECT_NE(cache.Find("token-999", kNow), nullptr);
}

TEST(TokenCache, KeepsEveryTokenUpToBound) {
  // 1,000 tokens spread unevenly over the shards, so a bound per shard would evict some.
  TokenCache cache(1000);
  for (int i = 0; i < 1000; ++i) {
    cache.Insert("token-" + std::to_string(i), IdentityExpiringAt(kNow + std::chrono::hours(1)),
                 kNow);
  }
  EXPECT_EQ(cache.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_NE(cache.Find("token-" + std::to_string(i), kNow), nullptr) << "token " << i;
  }
}

TEST(TokenCache, RepeatedTokenOnThreadKeepsIdentity) {
  TokenCache cache(100);
  auto a = IdentityExpiringAt(kNow + std::chrono::seconds(60));
  auto b = IdentityExpiringAt(kNow + std::chrono::seconds(60));
  cache.Insert("token-a", a, kNow);
  cache.Insert("token-b", b, kNow);
  EXPECT_EQ(cache.Find("token-a", kNow), a);
  EXPECT_EQ(cache.Find("token-a", kNow), a);
  EXPECT_EQ(cache.Find("token-ab", kNow), nullptr);
  EXPECT_EQ(cache.Find("token-", kNow), nullptr);
  EXPECT_EQ(cache.Find("token-b", kNow), b);
  EXPECT_EQ(cache.Find("token-a", kNow), a);
}

// Returns `count` tokens whose digests pick shard `shard`.
std::vector<std::string> TokensOfShard(size_t shard, size_t count) {
  std::vector<std::string> tokens;
  for (int i = 0; tokens.size() < count; ++i) {
    std::string token = "token-" + std::to_string(i);
    if (Sha256(token)[0] % TokenCache::kShards == shard) tokens.push_back(std::move(token));
  }
  return tokens;
}

TEST(TokenCache, FullCacheEvictsFromEveryShard) {
  const std::vector<std::string> first = TokensOfShard(0, 3);
  const std::vector<std::string> second = TokensOfShard(1, 1);
  TokenCache cache(2);
  cache.Insert(first[0], IdentityExpiringAt(kNow + std::chrono::hours(1)), kNow);
  cache.Insert(second[0], IdentityExpiringAt(kNow + std::chrono::hours(1)), kNow);

  // Both go to shard 0. The turns of eviction start at shard 0, then shard 1. A cache that
  // evicted only from the new token's shard would keep second[0] and lose first[1].
  cache.Insert(first[1], IdentityExpiringAt(kNow + std::chrono::hours(1)), kNow);
  cache.Insert(first[2], IdentityExpiringAt(kNow + std::chrono::hours(1)), kNow);

  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.Find(first[1], kNow), nullptr);
  EXPECT_NE(cache.Find(first[2], kNow), nullptr);
  EXPECT_EQ(cache.Find(second[0], kNow), nullptr);
}

TEST(TokenCache, FullShardStopsAtTwiceItsShare) {
  // A bound of two entries per shard, which a shard may exceed up to 2 * 2 + 2 entries.
  TokenCache cache(TokenCache::kShards * 2);
  for (size_t shard = 0; shard < TokenCache::kShards; ++shard) {
    for (const std::string& token : TokensOfShard(shard, 2)) {
      cache.Insert(token, IdentityExpiringAt(kNow + std::chrono::hours(1)), kNow);
    }
  }
  ASSERT_EQ(cache.size(), TokenCache::kShards * 2);

  // Twenty new tokens of shard 0, each sent once.
  const std::vector<std::string> tokens = TokensOfShard(0, 22);
  for (size_t i = 2; i < tokens.size(); ++i) {
    cache.Insert(tokens[i], IdentityExpiringAt(kNow + std::chrono::hours(1)), kNow);
  }

  size_t in_shard = 0;
  for (const std::string& token : tokens) {
    if (cache.Find(token, kNow) != nullptr) ++in_shard;
  }
  EXPECT_EQ(cache.size(), TokenCache::kShards * 2);
  EXPECT_LE(in_shard, 6u);
}

TEST(TokenCache, ExpiryFreesPlaceInBound) {
  TokenCache cache(2);
  cache.Insert("token-a", IdentityExpiringAt(kNow + std::chrono::seconds(60)), kNow);
  cache.Insert("token-b", IdentityExpiringAt(kNow + std::chrono::seconds(60)), kNow);
  const TimePoint later = kNow + std::chrono::seconds(60);
  ASSERT_EQ(cache.Find("token-a", later), nullptr);
  ASSERT_EQ(cache.Find("token-b", later), nullptr);

  cache.Insert("token-c", IdentityExpiringAt(later + std::chrono::seconds(60)), later);
  cache.Insert("token-d", IdentityExpiringAt(later + std::chrono::seconds(60)), later);

  EXPECT_NE(cache.Find("token-c", later), nullptr);
  EXPECT_NE(cache.Find("token-d", later), nullptr);
}

TEST(TokenCache, EvictionLeavesRoomAfterExpiry) {
  TokenCache cache(2);
  cache.Insert("token-a", IdentityExpiringAt(kNow + std::chrono::seconds(60)), kNow);
  cache.Insert("token-b", IdentityExpiringAt(kNow + std::chrono::seconds(60)), kNow);
  cache.Insert("token-c", IdentityExpiringAt(kNow + std::chrono::seconds(120)), kNow);
  const TimePoint later = kNow + std::chrono::seconds(60);
  ASSERT_EQ(cache.Find("token-a", later), nullptr);
  ASSERT_EQ(cache.Find("token-b", later), nullptr);

  // One entry remains, so the next insert has room without evicting token-c.
  cache.Insert("token-d", IdentityExpiringAt(later + std::chrono::seconds(60)), later);

  EXPECT_NE(cache.Find("token-c", later), nullptr);
  EXPECT_NE(cache.Find("token-d", later), nullptr);
}

TEST(TokenCache, NewCacheAtOldAddressFindsNothing) {
  std::optional<TokenCache> cache;
  cache.emplace(100);
  cache->Insert("token-a", IdentityExpiringAt(kNow + std::chrono::seconds(60)), kNow);
  ASSERT_NE(cache->Find("token-a", kNow), nullptr);
  const void* address = &*cache;
  cache.reset();
  cache.emplace(100);  // The same storage, so the same address.
  ASSERT_EQ(static_cast<const void*>(&*cache), address);
  EXPECT_EQ(cache->Find("token-a", kNow), nullptr);
}

}  // namespace
}  // namespace credgate::identity
