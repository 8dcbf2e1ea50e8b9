// AuthFailureLimiter: a limit on failed management API authentications per peer address, so that
// admin keys cannot be guessed at network speed. A peer that failed `max_failures` times within
// the last `window` is rejected, before its credentials are checked, until the oldest of those
// failures is older than `window`. Successful calls neither count nor reset the failures.
//
// Memory is bounded: at most `max_peers` addresses are tracked. When a new address would pass
// that, addresses whose failures are all older than `window` are dropped first, and then the
// address with the oldest latest failure.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace credgate::management {

struct AuthFailureLimits {
  size_t max_failures = 10;  // 0 turns the limit off.
  std::chrono::seconds window{60};
  size_t max_peers = 10'000;
};

struct AuthFailureCounters {
  uint64_t failures = 0;  // Failed authentications recorded.
  uint64_t limited = 0;   // Calls rejected because their peer was over the limit.
};

class AuthFailureLimiter {
 public:
  AuthFailureLimiter(const Clock& clock, AuthFailureLimits limits)
      : clock_(clock), limits_(limits) {}

  // Returns how long `peer` must wait, rounded up to whole seconds, when it is over the limit,
  // and counts that rejection. Returns nullopt when the peer may try.
  std::optional<std::chrono::seconds> RetryAfter(std::string_view peer);

  // Records one failed authentication of `peer`. Returns true when this failure brings the peer
  // to the limit, so that the caller can log that once.
  bool RecordFailure(std::string_view peer);

  AuthFailureCounters counters() const;

 private:
  void DropOldPeersLocked(TimePoint now);

  const Clock& clock_;
  const AuthFailureLimits limits_;
  mutable std::mutex mutex_;
  // Failure times of each peer, oldest first, at most max_failures each.
  std::unordered_map<std::string, std::deque<TimePoint>> failures_;
  AuthFailureCounters counters_;
};

}  // namespace credgate::management
