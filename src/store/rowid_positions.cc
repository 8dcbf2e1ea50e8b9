#include "store/rowid_positions.h"

#include <algorithm>

namespace credgate::store {

RowidPositions::RowidPositions(const std::vector<int64_t>& rowids_in_key_order) {
  by_rowid_.reserve(rowids_in_key_order.size());
  for (size_t place = 0; place < rowids_in_key_order.size(); ++place) {
    by_rowid_.emplace_back(rowids_in_key_order[place], place);
  }
  std::sort(by_rowid_.begin(), by_rowid_.end());
}

std::optional<size_t> RowidPositions::Place(size_t index, int64_t rowid) const {
  if (index >= by_rowid_.size() || by_rowid_[index].first != rowid) return std::nullopt;
  return by_rowid_[index].second;
}

}  // namespace credgate::store
