// Webhook signing and the retry schedule of webhook deliveries.
//
// A delivery carries the header `X-Credgate-Timestamp: <Unix seconds>` and
// `X-Credgate-Signature: sha256=<hex HMAC-SHA256>`, computed with the webhook's secret over the
// bytes "<timestamp>.<body>". A receiver recomputes the HMAC over the raw body, compares it in
// constant time, and rejects timestamps far from its own clock so that a recorded delivery
// cannot be replayed later.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/secret.h"

namespace credgate::events {

inline constexpr std::string_view kTimestampHeader = "X-Credgate-Timestamp";
inline constexpr std::string_view kSignatureHeader = "X-Credgate-Signature";
inline constexpr std::string_view kEventIdHeader = "X-Credgate-Event-Id";

// Returns "sha256=" followed by the lowercase hex HMAC-SHA256 of "<timestamp>.<body>".
std::string SignWebhook(const Secret& secret, std::string_view timestamp, std::string_view body);

// How often and how long a delivery is retried.
struct RetrySchedule {
  int max_attempts = 6;  // Attempts in all, the first one included.
  std::chrono::milliseconds initial_delay{1'000};
  std::chrono::milliseconds max_delay{60'000};
};

// Returns the wait before attempt `attempt` + 1 after attempt `attempt` (1-based) failed:
// initial_delay × 2^(attempt − 1), at most max_delay. Returns nullopt once `attempt` reaches
// max_attempts, when the delivery is given up.
std::optional<std::chrono::milliseconds> NextRetryDelay(const RetrySchedule& schedule, int attempt);

}  // namespace credgate::events
