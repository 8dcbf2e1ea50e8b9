// Process-wide counters of rate-limit-by-key and quota-by-key, for /metrics. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace credgate::policy {

struct LimitCounters {
  std::atomic<uint64_t> rate_limited{0};         // rate-limit-by-key rejections (429).
  std::atomic<uint64_t> calls_exhausted{0};      // quota-by-key rejections for calls (403).
  std::atomic<uint64_t> bandwidth_exhausted{0};  // quota-by-key rejections for bandwidth (403).
  // Bytes added to quota-by-key bandwidth counters, once per statement that charged them.
  std::atomic<uint64_t> bandwidth_bytes{0};
};

inline LimitCounters& TrafficLimitCounters() {
  static LimitCounters counters;
  return counters;
}

}  // namespace credgate::policy
