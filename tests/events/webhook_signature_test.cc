#include "events/webhook_signature.h"

#include <gtest/gtest.h>

namespace credgate::events {
namespace {

using std::chrono::milliseconds;

TEST(WebhookSignatureTest, MatchesHmacSha256OverTimestampAndBody) {
  // The expected value is `printf '1700000000.{"id":"1"}' |
  //   openssl dgst -sha256 -hmac 'webhook-secret-0123456789'`.
  const Secret secret("webhook-secret-0123456789");
  EXPECT_EQ(SignWebhook(secret, "1700000000", R"({"id":"1"})"),
            "sha256=bf27734d41cd64e3a3ff0b82bace167aef2aafc58a3825478011912f9ba968f3");
}

TEST(WebhookSignatureTest, DependsOnEveryInput) {
  const Secret secret("webhook-secret-0123456789");
  const std::string base = SignWebhook(secret, "1700000000", "{}");
  EXPECT_NE(SignWebhook(Secret("webhook-secret-0123456780"), "1700000000", "{}"), base);
  EXPECT_NE(SignWebhook(secret, "1700000001", "{}"), base);
  EXPECT_NE(SignWebhook(secret, "1700000000", "{ }"), base);
}

TEST(RetryScheduleTest, DoublesUpToTheCapThenGivesUp) {
  RetrySchedule schedule;
  schedule.max_attempts = 6;
  schedule.initial_delay = milliseconds(1'000);
  schedule.max_delay = milliseconds(5'000);
  const std::optional<milliseconds> expected[] = {
      milliseconds(1'000),  // After attempt 1.
      milliseconds(2'000), milliseconds(4'000),
      milliseconds(5'000),  // Capped.
      milliseconds(5'000),
      std::nullopt,  // Attempt 6 was the last.
  };
  for (int attempt = 1; attempt <= 6; ++attempt) {
    EXPECT_EQ(NextRetryDelay(schedule, attempt), expected[attempt - 1]) << "attempt " << attempt;
  }
}

TEST(RetryScheduleTest, SingleAttemptNeverRetries) {
  RetrySchedule schedule;
  schedule.max_attempts = 1;
  EXPECT_EQ(NextRetryDelay(schedule, 1), std::nullopt);
}

}  // namespace
}  // namespace credgate::events
