// RequestMetrics: the gateway's requests by API, operation and status class, with a latency
// histogram per API and operation, for the Prometheus page.
//
// Thread-safe. Record() takes no lock once a thread has seen the series: each thread keeps its
// own index from "api/operation" to the shared series, whose counters are relaxed atomics. A
// new series takes one mutex. At most kMaxSeries series exist; later pairs are counted under
// api="other" and operation="other", so hostile paths cannot grow memory without bound (only
// routed requests carry declared names, so this limit is reached only with that many
// operations).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "metrics/exposition.h"

namespace credgate::metrics {

class RequestMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 14> kBoundsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  static constexpr size_t kMaxSeries = 10'000;

  RequestMetrics();
  ~RequestMetrics();
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  // Counts one request that got `status` after `duration`. An unrouted request has empty `api`
  // and `operation`.
  void Record(std::string_view api, std::string_view operation, int status,
              std::chrono::nanoseconds duration);

  // Writes credgate_gateway_requests_total{api,operation,code} and
  // credgate_gateway_request_duration_seconds{api,operation}.
  void Write(Exposition& out) const;

 private:
  struct Series {
    std::string api;
    std::string operation;
    std::array<std::atomic<uint64_t>, kBoundsSeconds.size() + 1> buckets{};
    std::atomic<uint64_t> sum_nanoseconds{0};
    std::array<std::atomic<uint64_t>, 6> by_class{};  // 1xx..5xx; index 0 for anything else.
  };

  Series& Find(std::string_view api, std::string_view operation);

  const uint64_t id_;  // Tells this instance's entries apart in the per-thread index.
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Series>> series_;
};

}  // namespace credgate::metrics
