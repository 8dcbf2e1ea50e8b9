#include "common/persistent_hash_trie.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace credgate {
namespace {

using Trie = PersistentHashTrie<int>;

TEST(PersistentHashTrie, EmptyFindsNothing) {
  Trie trie;
  EXPECT_TRUE(trie.empty());
  EXPECT_EQ(trie.Find(7), nullptr);
}

TEST(PersistentHashTrie, AssignThenFind) {
  Trie trie = Trie().Assign(7, {1, 2});
  ASSERT_NE(trie.Find(7), nullptr);
  EXPECT_EQ(*trie.Find(7), (Trie::Bucket{1, 2}));
  EXPECT_EQ(trie.Find(8), nullptr);
}

TEST(PersistentHashTrie, OldVersionKeepsItsBuckets) {
  const Trie before = Trie().Assign(1, {10});
  const Trie after = before.Assign(1, {11}).Assign(2, {20});
  EXPECT_EQ(*before.Find(1), Trie::Bucket{10});
  EXPECT_EQ(before.Find(2), nullptr);
  EXPECT_EQ(*after.Find(1), Trie::Bucket{11});
  EXPECT_EQ(*after.Find(2), Trie::Bucket{20});
}

TEST(PersistentHashTrie, EmptyBucketRemoves) {
  Trie trie = Trie().Assign(1, {10}).Assign(33, {20});
  trie = trie.Assign(1, {});
  EXPECT_EQ(trie.Find(1), nullptr);
  ASSERT_NE(trie.Find(33), nullptr);
  trie = trie.Assign(33, {});
  EXPECT_TRUE(trie.empty());
}

TEST(PersistentHashTrie, RemovingAbsentHashKeepsTrie) {
  const Trie trie = Trie().Assign(1, {10}).Assign(2, {20});
  const Trie same = trie.Assign(3, {});
  EXPECT_EQ(*same.Find(1), Trie::Bucket{10});
  EXPECT_EQ(*same.Find(2), Trie::Bucket{20});
}

TEST(PersistentHashTrie, HashesSharingLowBits) {
  // These differ only in the top 4 bits, so they split at the last level.
  const uint64_t a = 0x0123456789abcdefULL;
  const uint64_t b = 0xf123456789abcdefULL;
  Trie trie = Trie().Assign(a, {1}).Assign(b, {2});
  EXPECT_EQ(*trie.Find(a), Trie::Bucket{1});
  EXPECT_EQ(*trie.Find(b), Trie::Bucket{2});
  trie = trie.Assign(a, {});
  EXPECT_EQ(trie.Find(a), nullptr);
  EXPECT_EQ(*trie.Find(b), Trie::Bucket{2});
}

TEST(PersistentHashTrie, AgreesWithMapUnderRandomChanges) {
  std::mt19937_64 random(42);
  std::map<uint64_t, int> expected;
  Trie trie;
  for (int step = 0; step < 20'000; ++step) {
    // 3,000 distinct hashes, each assigned and removed many times, so nodes split and collapse.
    const uint64_t hash = (random() % 3'000) * 0x9e3779b97f4a7c15ULL;
    if (random() % 3 == 0) {
      expected.erase(hash);
      trie = trie.Assign(hash, {});
    } else {
      expected[hash] = step;
      trie = trie.Assign(hash, {step});
    }
  }
  size_t buckets = 0;
  trie.ForEachBucket([&](const Trie::Bucket&) { ++buckets; });
  EXPECT_EQ(buckets, expected.size());
  for (const auto& [hash, value] : expected) {
    const Trie::Bucket* bucket = trie.Find(hash);
    ASSERT_NE(bucket, nullptr) << hash;
    EXPECT_EQ(*bucket, Trie::Bucket{value}) << hash;
  }
}

}  // namespace
}  // namespace credgate
