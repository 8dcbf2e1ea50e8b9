#include "store/rowid_positions.h"

#include <gtest/gtest.h>

namespace credgate::store {
namespace {

TEST(RowidPositionsTest, PlacesScannedRowsInKeyOrder) {
  // Key order lists rowid 7 first, then 2, then 5: a scan in rowid order reads 2, 5, 7.
  const RowidPositions positions({7, 2, 5});
  ASSERT_EQ(positions.size(), 3u);
  EXPECT_EQ(positions.Place(0, 2), 1u);
  EXPECT_EQ(positions.Place(1, 5), 2u);
  EXPECT_EQ(positions.Place(2, 7), 0u);
}

TEST(RowidPositionsTest, UnlistedRowidHasNoPlace) {
  const RowidPositions positions({4, 9});
  EXPECT_EQ(positions.Place(0, 4), 0u);
  EXPECT_EQ(positions.Place(1, 8), std::nullopt);
}

TEST(RowidPositionsTest, RowPastTheEndHasNoPlace) {
  const RowidPositions positions({1});
  EXPECT_EQ(positions.Place(1, 2), std::nullopt);
}

TEST(RowidPositionsTest, EmptyIndexPlacesNothing) {
  const RowidPositions positions({});
  EXPECT_EQ(positions.size(), 0u);
  EXPECT_EQ(positions.Place(0, 1), std::nullopt);
}

}  // namespace
}  // namespace credgate::store
