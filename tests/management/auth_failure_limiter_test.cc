#include "management/auth_failure_limiter.h"

#include <gtest/gtest.h>

namespace credgate::management {
namespace {

using std::chrono::seconds;

class AuthFailureLimiterTest : public testing::Test {
 protected:
  void Fail(std::string_view peer, int times) {
    for (int i = 0; i < times; ++i) limiter_.RecordFailure(peer);
  }

  FakeClock clock_;
  AuthFailureLimiter limiter_{clock_, AuthFailureLimits{3, seconds(60), 2}};
};

TEST_F(AuthFailureLimiterTest, AllowsBelowLimit) {
  Fail("10.0.0.1", 2);
  EXPECT_FALSE(limiter_.RetryAfter("10.0.0.1").has_value());
}

TEST_F(AuthFailureLimiterTest, ReportsReachingLimitOnce) {
  EXPECT_FALSE(limiter_.RecordFailure("10.0.0.1"));
  EXPECT_FALSE(limiter_.RecordFailure("10.0.0.1"));
  EXPECT_TRUE(limiter_.RecordFailure("10.0.0.1"));
}

TEST_F(AuthFailureLimiterTest, LimitsAtLimit) {
  Fail("10.0.0.1", 3);
  auto wait = limiter_.RetryAfter("10.0.0.1");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, seconds(60));
  EXPECT_EQ(limiter_.counters().limited, 1u);
  EXPECT_EQ(limiter_.counters().failures, 3u);
}

TEST_F(AuthFailureLimiterTest, WaitCountsFromOldestFailure) {
  Fail("10.0.0.1", 1);
  clock_.Advance(seconds(20));
  Fail("10.0.0.1", 2);
  auto wait = limiter_.RetryAfter("10.0.0.1");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, seconds(40));
}

TEST_F(AuthFailureLimiterTest, ReleasesAfterWindow) {
  Fail("10.0.0.1", 3);
  clock_.Advance(seconds(60));
  EXPECT_FALSE(limiter_.RetryAfter("10.0.0.1").has_value());
}

TEST_F(AuthFailureLimiterTest, PeersAreSeparate) {
  Fail("10.0.0.1", 3);
  EXPECT_FALSE(limiter_.RetryAfter("10.0.0.2").has_value());
}

TEST_F(AuthFailureLimiterTest, TracksBoundedPeers) {
  Fail("10.0.0.1", 3);
  clock_.Advance(seconds(1));
  Fail("10.0.0.2", 1);
  clock_.Advance(seconds(1));
  // A third peer evicts the one whose latest failure is oldest.
  Fail("10.0.0.3", 1);
  EXPECT_FALSE(limiter_.RetryAfter("10.0.0.1").has_value());
}

TEST(AuthFailureLimiter, ZeroTurnsOff) {
  FakeClock clock;
  AuthFailureLimiter limiter(clock, AuthFailureLimits{0, seconds(60), 10});
  for (int i = 0; i < 100; ++i) limiter.RecordFailure("10.0.0.1");
  EXPECT_FALSE(limiter.RetryAfter("10.0.0.1").has_value());
}

}  // namespace
}  // namespace credgate::management
