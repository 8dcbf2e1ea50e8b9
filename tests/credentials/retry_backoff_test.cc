#include "credentials/retry_backoff.h"

#include <gtest/gtest.h>

#include <set>

#include "fake_random.h"

namespace credgate::credentials {
namespace {

using namespace std::chrono_literals;

TEST(RandomFraction, CoversUnitInterval) {
  testing::FixedRandom zeros(0x00);
  testing::FixedRandom ones(0xFF);
  EXPECT_EQ(RandomFraction(zeros), 0.0);
  EXPECT_LT(RandomFraction(ones), 1.0);
  EXPECT_GT(RandomFraction(ones), 0.999);
}

TEST(RandomFloatFraction, StaysBelowOne) {
  testing::FixedRandom zeros(0x00);
  testing::FixedRandom ones(0xFF);
  EXPECT_EQ(RandomFloatFraction(zeros), 0.0f);
  // The double just below 1 would round to 1.0f.
  ASSERT_EQ(static_cast<float>(RandomFraction(ones)), 1.0f);
  EXPECT_LT(RandomFloatFraction(ones), 1.0f);
  EXPECT_GT(RandomFloatFraction(ones), 0.999f);
}

TEST(RetryDelay, DoublesUpToCap) {
  testing::FixedRandom ones(0xFF);
  const int64_t expected_ms[] = {5000, 10000, 20000, 40000, 80000, 160000, 300000, 300000};
  for (int attempt = 1; attempt <= 8; ++attempt) {
    const auto delay = RetryDelay(5s, 300s, attempt, ones);
    EXPECT_LE(delay.count(), expected_ms[attempt - 1]) << attempt;
    EXPECT_GE(delay.count(), expected_ms[attempt - 1] - 1) << attempt;
  }
}

TEST(RetryDelay, JitterKeepsUpperHalf) {
  testing::FixedRandom zeros(0x00);
  EXPECT_EQ(RetryDelay(5s, 300s, 1, zeros), 2500ms);
  EXPECT_EQ(RetryDelay(5s, 300s, 20, zeros), 150s);
}

TEST(RetryDelay, SpreadsSeededDraws) {
  testing::SeededRandom random(7);
  std::set<int64_t> delays;
  for (int i = 0; i < 50; ++i) {
    const auto delay = RetryDelay(60s, 300s, 1, random);
    EXPECT_GE(delay, 30s);
    EXPECT_LT(delay, 60s);
    delays.insert(delay.count());
  }
  EXPECT_GT(delays.size(), 40u);
}

TEST(RetryDelay, BaseAboveCapIsCapped) {
  testing::FixedRandom zeros(0x00);
  EXPECT_EQ(RetryDelay(600s, 300s, 1, zeros), 150s);
}

TEST(RetryDelay, LargeAttemptDoesNotOverflow) {
  testing::FixedRandom ones(0xFF);
  EXPECT_LE(RetryDelay(5s, 300s, 1'000'000, ones), 300s);
}

}  // namespace
}  // namespace credgate::credentials
