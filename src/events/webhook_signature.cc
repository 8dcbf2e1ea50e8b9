#include "events/webhook_signature.h"

#include <algorithm>

#include "common/encoding.h"
#include "common/hash.h"

namespace credgate::events {

std::string SignWebhook(const Secret& secret, std::string_view timestamp, std::string_view body) {
  std::string signed_bytes;
  signed_bytes.reserve(timestamp.size() + 1 + body.size());
  signed_bytes.append(timestamp);
  signed_bytes.push_back('.');
  signed_bytes.append(body);
  return "sha256=" + HexEncode(HmacSha256(secret.Expose(), signed_bytes));
}

std::optional<std::chrono::milliseconds> NextRetryDelay(const RetrySchedule& schedule,
                                                        int attempt) {
  if (attempt < 1 || attempt >= schedule.max_attempts) return std::nullopt;
  std::chrono::milliseconds delay = schedule.initial_delay;
  for (int i = 1; i < attempt && delay < schedule.max_delay; ++i) delay *= 2;
  return std::min(delay, schedule.max_delay);
}

}  // namespace credgate::events
