#include "credentials/access_policy_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace credgate::credentials {
namespace {

std::shared_ptr<const void> Object(std::string name) {
  return std::make_shared<const std::string>(std::move(name));
}

TEST(AccessDecisionCache, AllowsRememberedPair) {
  AccessDecisionCache cache(100);
  auto caller = Object("caller");
  auto connection = Object("connection");
  EXPECT_FALSE(cache.Allowed(caller, connection));
  cache.RememberAllowed(caller, connection);
  EXPECT_TRUE(cache.Allowed(caller, connection));
}

TEST(AccessDecisionCache, CountsHitsAndMisses) {
  AccessDecisionCache cache(100);
  auto caller = Object("caller");
  auto connection = Object("connection");
  EXPECT_FALSE(cache.Allowed(caller, connection));
  cache.RememberAllowed(caller, connection);
  EXPECT_TRUE(cache.Allowed(caller, connection));
  EXPECT_TRUE(cache.Allowed(caller, connection));
  const AccessDecisionCache::Lookups lookups = cache.CountLookups();
  EXPECT_EQ(lookups.hits, 2u);
  EXPECT_EQ(lookups.misses, 1u);
}

TEST(AccessDecisionCache, KeepsPairsApart) {
  AccessDecisionCache cache(100);
  auto caller = Object("caller");
  auto other_caller = Object("other caller");
  auto connection = Object("connection");
  auto other_connection = Object("other connection");
  cache.RememberAllowed(caller, connection);
  EXPECT_FALSE(cache.Allowed(other_caller, connection));
  EXPECT_FALSE(cache.Allowed(caller, other_connection));
}

TEST(AccessDecisionCache, ForgetsReplacedConnection) {
  AccessDecisionCache cache(100);
  auto caller = Object("caller");
  auto connection = Object("policies v1");
  cache.RememberAllowed(caller, connection);
  // The configuration publishes a new entry when the policies change. Even an object that
  // reuses the old address has another control block.
  connection.reset();
  auto replaced = Object("policies v2");
  EXPECT_FALSE(cache.Allowed(caller, replaced));
}

TEST(AccessDecisionCache, AliasOfOtherOwnerMisses) {
  AccessDecisionCache cache(100);
  auto caller = Object("caller");
  auto connection = Object("connection");
  cache.RememberAllowed(caller, connection);
  // Same address, different control block: the pair must not match.
  std::shared_ptr<const void> alias(Object("unrelated"), connection.get());
  EXPECT_FALSE(cache.Allowed(caller, alias));
}

TEST(AccessDecisionCache, StaysWithinBound) {
  AccessDecisionCache cache(AccessDecisionCache::kShards * 2);
  auto connection = Object("connection");
  std::vector<std::shared_ptr<const void>> callers;
  for (int i = 0; i < 500; ++i) {
    callers.push_back(Object("caller " + std::to_string(i)));
    cache.RememberAllowed(callers.back(), connection);
  }
  EXPECT_EQ(cache.size(), AccessDecisionCache::kShards * 2);
  EXPECT_TRUE(cache.Allowed(callers.back(), connection));
}

TEST(AccessDecisionCache, KeepsEveryPairUpToBound) {
  // 1,000 pairs spread unevenly over the shards, so a bound per shard would drop some.
  AccessDecisionCache cache(1000);
  auto connection = Object("connection");
  std::vector<std::shared_ptr<const void>> callers;
  for (int i = 0; i < 1000; ++i) {
    callers.push_back(Object("caller " + std::to_string(i)));
    cache.RememberAllowed(callers.back(), connection);
  }
  EXPECT_EQ(cache.size(), 1000u);
  for (size_t i = 0; i < callers.size(); ++i) {
    EXPECT_TRUE(cache.Allowed(callers[i], connection)) << "caller " << i;
  }
}

TEST(AccessDecisionCache, FullCacheKeepsNewPairs) {
  constexpr size_t kBound = AccessDecisionCache::kShards * 4;
  AccessDecisionCache cache(kBound);
  auto connection = Object("connection");
  std::vector<std::shared_ptr<const void>> callers;
  for (size_t i = 0; i < 2 * kBound; ++i) {
    callers.push_back(Object("caller " + std::to_string(i)));
    cache.RememberAllowed(callers.back(), connection);
  }

  // The clock evicts the older pairs, which no lookup found again, before the newer ones.
  size_t still_allowed = 0;
  for (size_t i = kBound; i < callers.size(); ++i) {
    if (cache.Allowed(callers[i], connection)) ++still_allowed;
  }
  EXPECT_GT(still_allowed, kBound / 2);
}

}  // namespace
}  // namespace credgate::credentials
