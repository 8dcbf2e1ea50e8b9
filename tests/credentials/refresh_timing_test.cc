#include "credentials/refresh_timing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace credgate::credentials {
namespace {

using namespace std::chrono_literals;

const TimePoint kObtained = FromUnixSeconds(1'700'000'000);

TokenSet Tokens(std::optional<std::chrono::seconds> lifetime, std::string refresh_token = "rt") {
  TokenSet tokens;
  tokens.access_token = Secret("at");
  tokens.refresh_token = Secret(std::move(refresh_token));
  tokens.obtained_at = kObtained;
  if (lifetime) tokens.expires_at = kObtained + *lifetime;
  return tokens;
}

TEST(RefreshDueAt, MarginBeforeExpiry) {
  const RefreshTiming timing{60s, 0s};
  EXPECT_EQ(RefreshDueAt(Tokens(3600s), timing), kObtained + 3540s);
}

TEST(RefreshDueAt, HalfLifetimeForShortTokens) {
  const RefreshTiming timing{60s, 0s};
  EXPECT_EQ(RefreshDueAt(Tokens(60s), timing), kObtained + 30s);
}

TEST(RefreshDueAt, UnknownExpiryUsesDefaultLifetime) {
  EXPECT_EQ(RefreshDueAt(Tokens(std::nullopt), RefreshTiming{60s, 3600s}), kObtained + 3540s);
  EXPECT_EQ(RefreshDueAt(Tokens(std::nullopt), RefreshTiming{60s, 0s}), std::nullopt);
  EXPECT_EQ(RefreshDueAt(Tokens(std::nullopt, ""), RefreshTiming{60s, 3600s}), std::nullopt);
}

TEST(RefreshDueAt, ExpiryWithoutRefreshToken) {
  EXPECT_EQ(RefreshDueAt(Tokens(3600s, ""), RefreshTiming{60s, 0s}), kObtained + 3540s);
}

TEST(RefreshTokenExpiresAt, UnknownLifetime) {
  EXPECT_EQ(RefreshTokenExpiresAt(Tokens(3600s), ProviderConfig{}), std::nullopt);
}

TEST(RefreshTokenExpiresAt, EarliestKnownLifetime) {
  ProviderConfig provider;
  provider.refresh_token_absolute_lifetime = std::chrono::hours(24 * 90);
  provider.refresh_token_idle_lifetime = std::chrono::hours(24 * 14);
  EXPECT_EQ(RefreshTokenExpiresAt(Tokens(3600s), provider),
            kObtained + std::chrono::hours(24 * 14));

  TokenSet stated = Tokens(3600s);
  stated.response["refresh_token_expires_in"] = "86400";
  EXPECT_EQ(RefreshTokenExpiresAt(stated, provider), kObtained + 86400s);
}

TEST(RefreshTokenExpiresAt, AbsoluteLifetimeIgnoredWithoutRotation) {
  ProviderConfig provider;
  provider.refresh_token_absolute_lifetime = std::chrono::hours(24);
  provider.refresh_token_rotation = RefreshTokenRotation::kNever;
  EXPECT_EQ(RefreshTokenExpiresAt(Tokens(3600s), provider), std::nullopt);
  provider.refresh_token_rotation = RefreshTokenRotation::kAlways;
  EXPECT_EQ(RefreshTokenExpiresAt(Tokens(3600s), provider), kObtained + std::chrono::hours(24));
}

TEST(RefreshTokenExpiresAt, NoRefreshToken) {
  ProviderConfig provider;
  provider.refresh_token_idle_lifetime = std::chrono::hours(24);
  EXPECT_EQ(RefreshTokenExpiresAt(Tokens(3600s, ""), provider), std::nullopt);
}

TEST(RefreshTokenExpiresAt, InvalidStatedLifetimeIgnored) {
  TokenSet stated = Tokens(3600s);
  stated.response["refresh_token_expires_in"] = "soon";
  EXPECT_EQ(RefreshTokenExpiresAt(stated, ProviderConfig{}), std::nullopt);
}

// Returns the largest number of `starts` (sorted) inside any one-second window.
size_t MaxPerSecond(const std::vector<TimePoint>& starts) {
  size_t largest = 0;
  size_t first = 0;
  for (size_t last = 0; last < starts.size(); ++last) {
    while (starts[last] - starts[first] >= 1s) ++first;
    largest = std::max(largest, last - first + 1);
  }
  return largest;
}

TEST(PlanRefreshStarts, HundredThousandInOneHourSpread) {
  constexpr size_t kTokens = 100'000;
  constexpr double kRate = 50;
  // Every due time falls inside one hour, a tenth of them in its last second.
  std::vector<TimePoint> due;
  for (size_t i = 0; i < kTokens; ++i) {
    const auto offset = i % 10 == 0 ? 3599s : std::chrono::seconds(i % 3600);
    due.push_back(kObtained + 3600s + offset);
  }
  std::sort(due.begin(), due.end());

  const std::vector<TimePoint> starts = PlanRefreshStarts(due, kObtained, kRate);
  ASSERT_EQ(starts.size(), kTokens);
  EXPECT_TRUE(std::is_sorted(starts.begin(), starts.end()));
  EXPECT_LE(MaxPerSecond(starts), static_cast<size_t>(kRate));
  for (size_t i = 0; i < kTokens; ++i) {
    ASSERT_LE(starts[i], due[i]) << "refresh " << i << " starts after its due time";
    ASSERT_GE(starts[i], kObtained) << "refresh " << i << " starts before now";
  }
}

TEST(PlanRefreshStarts, DueTimesKeptWhenRateAllows) {
  const std::vector<TimePoint> due = {kObtained + 10s, kObtained + 20s, kObtained + 30s};
  EXPECT_EQ(PlanRefreshStarts(due, kObtained, 1), due);
}

TEST(PlanRefreshStarts, BurstMovedAhead) {
  const std::vector<TimePoint> due(4, kObtained + 100s);
  const std::vector<TimePoint> starts = PlanRefreshStarts(due, kObtained, 2);
  const std::vector<TimePoint> expected = {kObtained + 98500ms, kObtained + 99s,
                                           kObtained + 99500ms, kObtained + 100s};
  EXPECT_EQ(starts, expected);
}

TEST(PlanRefreshStarts, LateWhenRateTooLow) {
  const std::vector<TimePoint> due(3, kObtained + 1s);
  const std::vector<TimePoint> starts = PlanRefreshStarts(due, kObtained, 1);
  const std::vector<TimePoint> expected = {kObtained, kObtained + 1s, kObtained + 2s};
  EXPECT_EQ(starts, expected);
}

}  // namespace
}  // namespace credgate::credentials
