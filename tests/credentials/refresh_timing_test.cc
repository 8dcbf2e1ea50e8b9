#include "credentials/refresh_timing.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace credgate::credentials
