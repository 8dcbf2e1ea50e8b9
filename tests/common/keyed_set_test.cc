#include "common/keyed_set.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace credgate {
namespace {

// Counts live objects, so that the tests see every object destroyed exactly once.
struct Counted {
  explicit Counted(int initial, bool fail = false) : value(initial) {
    if (fail) throw std::runtime_error("constructor failed");
    ++live;
  }
  ~Counted() { --live; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;

  int value;
  uint32_t key_size_ = 0;
  static inline int live = 0;
};

class KeyedSetTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(Counted::live, 0); }
};

TEST_F(KeyedSetTest, FindsObjectByKey) {
  KeyedSet<Counted> set;
  auto [object, added] = set.TryEmplace("idp/alice", 1);

  ASSERT_TRUE(added);
  EXPECT_EQ(set.Find("idp/alice"), object);
  EXPECT_EQ(KeyedSet<Counted>::KeyOf(*object), "idp/alice");
  EXPECT_EQ(object->value, 1);
  EXPECT_EQ(set.Find("idp/bob"), nullptr);
  EXPECT_EQ(set.size(), 1u);
}

TEST_F(KeyedSetTest, ExistingKeyKeepsItsObject) {
  KeyedSet<Counted> set;
  Counted* first = set.TryEmplace("idp/alice", 1).first;

  auto [object, added] = set.TryEmplace("idp/alice", 2);

  EXPECT_FALSE(added);
  EXPECT_EQ(object, first);
  EXPECT_EQ(object->value, 1);
  EXPECT_EQ(Counted::live, 1);
}

TEST_F(KeyedSetTest, EraseDestroysTheObject) {
  KeyedSet<Counted> set;
  set.TryEmplace("idp/alice", 1);
  set.TryEmplace("idp/bob", 2);

  EXPECT_TRUE(set.Erase("idp/alice"));
  EXPECT_FALSE(set.Erase("idp/alice"));

  EXPECT_EQ(set.Find("idp/alice"), nullptr);
  EXPECT_NE(set.Find("idp/bob"), nullptr);
  EXPECT_EQ(Counted::live, 1);
}

TEST_F(KeyedSetTest, KeysOfAnyLength) {
  KeyedSet<Counted> set;
  const std::string long_key(5000, 'k');
  set.TryEmplace("", 1);
  set.TryEmplace(long_key, 2);

  ASSERT_NE(set.Find(""), nullptr);
  EXPECT_EQ(set.Find("")->value, 1);
  EXPECT_EQ(KeyedSet<Counted>::KeyOf(*set.Find(long_key)), long_key);
}

TEST_F(KeyedSetTest, ThrowingConstructorAddsNothing) {
  KeyedSet<Counted> set;

  EXPECT_THROW(set.TryEmplace("idp/alice", 1, true), std::runtime_error);

  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.Find("idp/alice"), nullptr);
}

TEST_F(KeyedSetTest, ClearAndDestructorFreeEveryObject) {
  {
    KeyedSet<Counted> set;
    for (int i = 0; i < 100; ++i) set.TryEmplace("idp/user" + std::to_string(i), i);
    set.clear();
    EXPECT_EQ(Counted::live, 0);
    for (int i = 0; i < 100; ++i) set.TryEmplace("idp/user" + std::to_string(i), i);
  }
  EXPECT_EQ(Counted::live, 0);
}

TEST_F(KeyedSetTest, InsertionWithoutRehashKeepsIterators) {
  KeyedSet<Counted> set;
  set.Reserve(1000);
  for (int i = 0; i < 10; ++i) set.TryEmplace("idp/user" + std::to_string(i), i);
  const uint64_t rehashes = set.rehashes();
  auto it = set.begin();
  Counted* at = *it;

  for (int i = 10; i < 900; ++i) set.TryEmplace("idp/user" + std::to_string(i), i);

  ASSERT_EQ(set.rehashes(), rehashes);
  EXPECT_EQ(*it, at);
}

TEST_F(KeyedSetTest, GrowthCountsRehashes) {
  KeyedSet<Counted> set;
  const uint64_t before = set.rehashes();

  for (int i = 0; i < 5000; ++i) set.TryEmplace("idp/user" + std::to_string(i), i);

  EXPECT_GT(set.rehashes(), before);
  std::set<int> values;
  for (const Counted* object : set) values.insert(object->value);
  EXPECT_EQ(values.size(), 5000u);
}

// Iterators must stay valid while rehashes() stays the same, including after erasures have
// lowered the set's load limit.
TEST_F(KeyedSetTest, UnchangedRehashCountKeepsIterators) {
  KeyedSet<Counted> set;
  int next = 0;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 3000; ++i) {
      const uint64_t rehashes = set.rehashes();
      const auto first = set.begin();
      const Counted* at = set.empty() ? nullptr : *first;

      set.TryEmplace("idp/user" + std::to_string(next), next);
      ++next;

      if (at != nullptr && set.rehashes() == rehashes) {
        ASSERT_EQ(*first, at);
      }
    }
    // Erase all but every tenth object, so that the next round inserts after erasures.
    std::vector<std::string> keys;
    for (const Counted* object : set) {
      if (object->value % 10 != 0) keys.emplace_back(KeyedSet<Counted>::KeyOf(*object));
    }
    for (const std::string& key : keys) set.Erase(key);
  }
}

// Erasures lower the set's load limit below its capacity's share, and Reserve() must still
// make room for the whole count.
TEST_F(KeyedSetTest, ReserveAfterErasuresHoldsItsCount) {
  // With these counts Boost 1.81's set keeps a capacity of 1,919 slots, whose load limit of
  // 1,679 the erasures lower to 1,549, so room for 1,600 needs a larger capacity.
  KeyedSet<Counted> set;
  for (int i = 0; i < 1650; ++i) set.TryEmplace("idp/user" + std::to_string(i), i);
  for (int i = 0; i < 1650; ++i) {
    if (i % 3 != 0) set.Erase("idp/user" + std::to_string(i));
  }
  ASSERT_EQ(set.size(), 550u);

  set.Reserve(1600);
  const uint64_t rehashes = set.rehashes();
  const auto first = set.begin();
  const Counted* at = *first;
  for (int i = 1650; i < 2700; ++i) set.TryEmplace("idp/user" + std::to_string(i), i);

  EXPECT_EQ(set.size(), 1600u);
  EXPECT_EQ(set.rehashes(), rehashes);
  EXPECT_EQ(*first, at);
}

// Two sets hash with different seeds, so copying one into another in its order does not send
// runs of neighbouring keys to the same slots.
TEST_F(KeyedSetTest, SetsOrderKeysDifferently) {
  KeyedSet<Counted> first;
  KeyedSet<Counted> second;
  for (int i = 0; i < 1000; ++i) {
    first.TryEmplace("idp/user" + std::to_string(i), i);
    second.TryEmplace("idp/user" + std::to_string(i), i);
  }
  std::vector<int> first_order;
  std::vector<int> second_order;

  for (const Counted* object : first) first_order.push_back(object->value);
  for (const Counted* object : second) second_order.push_back(object->value);

  EXPECT_NE(first_order, second_order);
}

TEST_F(KeyedSetTest, EraseByObject) {
  KeyedSet<Counted> set;
  Counted* alice = set.TryEmplace("idp/alice", 1).first;
  set.TryEmplace("idp/bob", 2);

  set.Erase(alice);

  EXPECT_EQ(set.Find("idp/alice"), nullptr);
  EXPECT_NE(set.Find("idp/bob"), nullptr);
  EXPECT_EQ(Counted::live, 1);
}

TEST_F(KeyedSetTest, ReserveOfAvailableRoomDoesNotRehash) {
  KeyedSet<Counted> set;
  set.Reserve(1000);
  const uint64_t rehashes = set.rehashes();

  set.Reserve(10);

  EXPECT_EQ(set.rehashes(), rehashes);
}

}  // namespace
}  // namespace credgate
