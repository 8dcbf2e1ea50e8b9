#include "policy/bandwidth.h"

#include <limits>

#include "policy/limit_counters.h"
#include "policy/window_counters.h"

namespace credgate::policy {

void ChargeBandwidth(const PolicyContext& context, uint64_t bytes) {
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t amount = static_cast<int64_t>(bytes > kMax ? kMax : bytes);
  for (const BandwidthCharge& charge : context.bandwidth_charges) {
    charge.counters->Add(charge.key, amount, charge.period, charge.origin, charge.start);
    TrafficLimitCounters().bandwidth_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
}

}  // namespace credgate::policy
