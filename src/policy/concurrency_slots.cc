#include "policy/concurrency_slots.h"

namespace credgate::policy {

ConcurrencySlots::Slot ConcurrencySlots::TryAcquire(const std::shared_ptr<ConcurrencySlots>& slots,
                                                    const std::string& key, int64_t max_count) {
  std::lock_guard lock(slots->mutex_);
  int64_t& in_use = slots->in_use_[key];
  if (in_use >= max_count) {
    if (in_use == 0) slots->in_use_.erase(key);
    return Slot();
  }
  ++in_use;
  return Slot(slots, key);
}

void ConcurrencySlots::Release(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto found = in_use_.find(key);
  if (found == in_use_.end()) return;
  if (--found->second <= 0) in_use_.erase(found);
}

}  // namespace credgate::policy
