#include "common/clock_table.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace credgate {
namespace {

using Table = ClockTable<std::string, int, std::hash<std::string>>;

TEST(ClockTable, FindsInsertedValue) {
  Table table;
  EXPECT_TRUE(table.Insert("a", 1));
  ASSERT_NE(table.Find("a"), nullptr);
  EXPECT_EQ(*table.Find("a"), 1);
  EXPECT_EQ(table.Find("b"), nullptr);
}

TEST(ClockTable, InsertReplacesStoredValue) {
  Table table;
  table.Insert("a", 1);
  EXPECT_FALSE(table.Insert("a", 2));
  EXPECT_EQ(*table.Find("a"), 2);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ClockTable, EvictsUnmarkedEntryFirst) {
  Table table;
  table.Insert("a", 1);
  table.Insert("b", 2);
  table.Insert("c", 3);
  table.Find("a");
  table.Find("c");

  EXPECT_TRUE(table.EvictOne());

  EXPECT_EQ(table.Find("b"), nullptr);
  EXPECT_NE(table.Find("a"), nullptr);
  EXPECT_NE(table.Find("c"), nullptr);
}

TEST(ClockTable, EvictsWhenEveryEntryIsMarked) {
  Table table;
  table.Insert("a", 1);
  table.Insert("b", 2);
  table.Find("a");
  table.Find("b");

  EXPECT_TRUE(table.EvictOne());
  EXPECT_EQ(table.size(), 1u);
}

TEST(ClockTable, NewEntrySurvivesNextEviction) {
  Table table;
  table.Insert("t0", 0);
  table.Insert("t1", 1);
  table.Insert("t2", 2);
  table.Find("t0");
  ASSERT_TRUE(table.EvictOne());  // Clears t0's mark and evicts t1.
  ASSERT_EQ(table.Find("t1"), nullptr);
  table.Insert("t3", 3);  // Takes t1's slot, which the hand has passed.

  ASSERT_TRUE(table.EvictOne());

  EXPECT_NE(table.Find("t3"), nullptr);
  EXPECT_EQ(table.Find("t2"), nullptr);
}

TEST(ClockTable, ReplacedEntryIsMarked) {
  Table table;
  table.Insert("a", 1);
  table.Insert("b", 2);
  table.Insert("a", 3);

  ASSERT_TRUE(table.EvictOne());

  EXPECT_EQ(table.Find("b"), nullptr);
  EXPECT_NE(table.Find("a"), nullptr);
}

TEST(ClockTable, ErasedSlotIsReused) {
  Table table;
  table.Insert("a", 1);
  table.Insert("b", 2);
  table.Erase("a");
  table.Insert("c", 3);  // Takes a's slot, the first one, where the hand starts.

  ASSERT_TRUE(table.EvictOne());

  EXPECT_EQ(table.Find("c"), nullptr);
  EXPECT_NE(table.Find("b"), nullptr);
}

TEST(ClockTable, EraseFreesSlotForReuse) {
  Table table;
  table.Insert("a", 1);
  EXPECT_TRUE(table.Erase("a"));
  EXPECT_FALSE(table.Erase("a"));
  EXPECT_EQ(table.Find("a"), nullptr);

  table.Insert("b", 2);

  EXPECT_EQ(*table.Find("b"), 2);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ClockTable, EvictionSkipsFreeSlot) {
  Table table;
  table.Insert("a", 1);
  table.Insert("b", 2);
  table.Erase("a");

  EXPECT_TRUE(table.EvictOne());
  EXPECT_EQ(table.Find("b"), nullptr);
  EXPECT_TRUE(table.empty());

  // Each freed slot is free once, so two new keys get slots of their own.
  table.Insert("c", 3);
  table.Insert("d", 4);
  EXPECT_EQ(*table.Find("c"), 3);
  EXPECT_EQ(*table.Find("d"), 4);
}

TEST(ClockTable, EvictOneOnEmptyTableFails) {
  Table table;
  EXPECT_FALSE(table.EvictOne());
}

}  // namespace
}  // namespace credgate
