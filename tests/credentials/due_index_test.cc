#include "credentials/due_index.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace credgate::credentials {
namespace {

const TimePoint kStart = TimePoint() + std::chrono::hours(1000);

DueIndex::Fields DueIn(int seconds) {
  DueIndex::Fields fields;
  fields.due = kStart + std::chrono::seconds(seconds);
  fields.deadline = TimePoint::max();
  return fields;
}

std::vector<std::string> KeysInDueOrder(const DueIndex& index) {
  std::vector<std::string> keys;
  for (const DueIndex::Entry& entry : index) keys.emplace_back(entry.key());
  return keys;
}

TEST(DueIndexTest, ReadsEntriesEarliestFirst) {
  DueIndex index;
  index.Set("github/carol", DueIn(30));
  index.Set("github/alice", DueIn(10));
  index.Set("google/bob", DueIn(20));
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(KeysInDueOrder(index),
            (std::vector<std::string>{"github/alice", "google/bob", "github/carol"}));
}

TEST(DueIndexTest, FindsAnEntryByKeyWithItsFields) {
  DueIndex index;
  auto tokens = std::make_shared<const TokenSet>();
  DueIndex::Fields fields = DueIn(5);
  fields.tokens = tokens;
  fields.deadline = kStart + std::chrono::seconds(60);
  fields.spread = 0.25f;
  index.Set("github/alice", fields);

  const DueIndex::Entry* entry = index.Find("github/alice");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->key(), "github/alice");
  EXPECT_EQ(entry->fields().due, kStart + std::chrono::seconds(5));
  EXPECT_EQ(entry->fields().deadline, kStart + std::chrono::seconds(60));
  EXPECT_EQ(entry->fields().spread, 0.25f);
  EXPECT_EQ(entry->fields().tokens.lock(), tokens);
  EXPECT_EQ(index.Find("github/bob"), nullptr);
  EXPECT_EQ(index.Find("github/alic"), nullptr);
}

TEST(DueIndexTest, SetMovesEntryToNewDueTime) {
  DueIndex index;
  index.Set("p/a", DueIn(10));
  index.Set("p/b", DueIn(20));
  const DueIndex::Entry* before = index.Find("p/a");

  index.Set("p/a", DueIn(30));
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.Find("p/a"), before);  // The same entry, updated in place.
  EXPECT_EQ(KeysInDueOrder(index), (std::vector<std::string>{"p/b", "p/a"}));
}

TEST(DueIndexTest, EqualDueTimesKeepAddedOrder) {
  DueIndex index;
  index.Set("p/first", DueIn(10));
  index.Set("p/second", DueIn(10));
  index.Set("p/third", DueIn(10));
  EXPECT_EQ(KeysInDueOrder(index), (std::vector<std::string>{"p/first", "p/second", "p/third"}));
  // New fields with the same due time keep the entry's place.
  DueIndex::Fields same_due = DueIn(10);
  same_due.spread = 0.5f;
  index.Set("p/first", same_due);
  EXPECT_EQ(KeysInDueOrder(index), (std::vector<std::string>{"p/first", "p/second", "p/third"}));
  EXPECT_EQ(index.Find("p/first")->fields().spread, 0.5f);
  // An entry that moves to an equal due time comes after the entries already there.
  index.Set("p/first", DueIn(5));
  index.Set("p/first", DueIn(10));
  EXPECT_EQ(KeysInDueOrder(index), (std::vector<std::string>{"p/second", "p/third", "p/first"}));
}

TEST(DueIndexTest, ErasedEntriesLeaveBothOrders) {
  DueIndex index;
  index.Set("p/a", DueIn(10));
  index.Set("p/b", DueIn(20));
  EXPECT_TRUE(index.Erase("p/a"));
  EXPECT_FALSE(index.Erase("p/a"));
  EXPECT_FALSE(index.Erase("p/never"));
  EXPECT_EQ(index.Find("p/a"), nullptr);
  EXPECT_EQ(KeysInDueOrder(index), (std::vector<std::string>{"p/b"}));
  EXPECT_TRUE(index.Erase("p/b"));
  EXPECT_TRUE(index.empty());
  EXPECT_TRUE(index.begin() == index.end());
}

TEST(DueIndexTest, KeepsKeysOfAnyLength) {
  DueIndex index;
  const std::string empty;
  const std::string guid = "aad/3fa85f64-5717-4562-b3fc-2c963f66afa6";
  const std::string longest = std::string(80, 'p') + "/" + std::string(80, 'c');
  index.Set(std::string_view(), DueIn(3));  // A view without data is the empty key.
  index.Set(guid, DueIn(2));
  index.Set(longest, DueIn(1));
  EXPECT_EQ(KeysInDueOrder(index), (std::vector<std::string>{longest, guid, empty}));
  ASSERT_NE(index.Find(guid), nullptr);
  EXPECT_EQ(index.Find(guid)->key(), guid);
  // The keys are copies: the index does not refer to the caller's strings.
  std::string changing = "p/x";
  index.Set(changing, DueIn(4));
  changing[2] = 'y';
  EXPECT_NE(index.Find("p/x"), nullptr);
  EXPECT_EQ(index.Find("p/y"), nullptr);
}

TEST(DueIndexTest, ManyEntriesStayFindableAcrossGrowth) {
  DueIndex index;
  constexpr int kCount = 5000;
  for (int i = 0; i < kCount; ++i) index.Set("p/" + std::to_string(i), DueIn(kCount - i));
  ASSERT_EQ(index.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; i += 7) {
    const DueIndex::Entry* entry = index.Find("p/" + std::to_string(i));
    ASSERT_NE(entry, nullptr) << i;
    EXPECT_EQ(entry->fields().due, kStart + std::chrono::seconds(kCount - i));
  }
  for (int i = 0; i < kCount; i += 2) ASSERT_TRUE(index.Erase("p/" + std::to_string(i)));
  EXPECT_EQ(index.size(), static_cast<size_t>(kCount / 2));
  TimePoint previous = TimePoint::min();
  for (const DueIndex::Entry& entry : index) {
    EXPECT_LE(previous, entry.fields().due);
    previous = entry.fields().due;
  }
  // Destroying the index frees the remaining entries (checked by the sanitizer build).
}

TEST(DueIndexTest, EntryDoesNotKeepItsTokensAlive) {
  DueIndex index;
  auto tokens = std::make_shared<const TokenSet>();
  DueIndex::Fields fields = DueIn(1);
  fields.tokens = tokens;
  index.Set("p/a", fields);
  tokens.reset();
  EXPECT_TRUE(index.Find("p/a")->fields().tokens.expired());
}

}  // namespace
}  // namespace credgate::credentials
