// RowidPositions: where each row of a table scan belongs in key order.
//
// SQLite reads a rowid table fastest in rowid order, and a key index fastest on its own, without
// the table. ORDER BY key on the table does neither: it walks the index and looks up every row,
// which with millions of rows costs more than the scan. Sorting an unordered read instead
// compares keys scattered over the heap. A RowidPositions takes the rowids in key order, as an
// index-only scan lists them, and returns the place of each row of a scan in rowid order, so
// the rows move into key order without a key comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace credgate::store {

class RowidPositions {
 public:
  // `rowids_in_key_order`: the rowids of the table's rows, in key order. Rowids are unique.
  explicit RowidPositions(const std::vector<int64_t>& rowids_in_key_order);

  // The number of rows.
  size_t size() const { return by_rowid_.size(); }

  // The place in key order of the row that a scan in ascending rowid order reads as its
  // `index`-th row (from 0), given that row's rowid. Returns nullopt when the rowid is not the one
  // expected at `index` or `index` is past the end: the two reads did not see the same rows.
  std::optional<size_t> Place(size_t index, int64_t rowid) const;

 private:
  std::vector<std::pair<int64_t, size_t>> by_rowid_;  // (rowid, place), ascending by rowid.
};

}  // namespace credgate::store
