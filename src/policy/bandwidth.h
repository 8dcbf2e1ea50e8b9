// The second half of the quota-by-key bandwidth: quota-by-key checks the byte counter when it
// runs and records a BandwidthCharge (policy/context.h), and the gateway adds the request's
// bytes once the response has been sent. A request that starts under the limit therefore runs to
// its end and may take the counter past the limit, and the next request of that key is rejected.
#pragma once

#include <cstdint>

#include "policy/context.h"

namespace credgate::policy {

// Adds `bytes` to the counter of every charge in context.bandwidth_charges. Does nothing when
// there is none. Thread-safe, because the counters are (policy/window_counters.h).
void ChargeBandwidth(const PolicyContext& context, uint64_t bytes);

}  // namespace credgate::policy
