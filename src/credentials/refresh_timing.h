// When a connection's tokens are refreshed: the request path refreshes an access token a margin
// before it expires, and the refresh scheduler also refreshes before the refresh token itself
// would expire. Pure functions of the token set, the provider and the settings.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <vector>

#include "common/clock.h"
#include "credentials/model.h"

namespace credgate::credentials {

struct RefreshTiming {
  // An access token is refreshed this long before it expires, or half its lifetime before
  // when that is shorter, so that a 60-second token is not refreshed on every request.
  std::chrono::seconds refresh_margin{60};
  // The lifetime assumed for an access token whose response had no expires_in, for refresh
  // timing only: such a token is refreshed once it is this old, but kept in use when the
  // refresh fails. Zero: such tokens are never refreshed ahead.
  std::chrono::seconds default_token_lifetime{0};
};

// Returns the access token's lifetime: expires_at − obtained_at, or default_token_lifetime for
// a token without an expiry that has a refresh token. nullopt when neither applies.
std::optional<TimePoint::duration> AccessTokenLifetime(const TokenSet& tokens,
                                                       const RefreshTiming& timing);

// Returns when the request path refreshes `tokens`: obtained_at + lifetime − margin, where
// margin is min(refresh_margin, lifetime / 2). nullopt when AccessTokenLifetime is nullopt.
std::optional<TimePoint> RefreshDueAt(const TokenSet& tokens, const RefreshTiming& timing);

// Returns when the refresh token expires at the latest, counted from obtained_at (the time the
// refresh token was last used or issued): the earliest of the response's
// refresh_token_expires_in and the provider's absolute and idle refresh token lifetimes.
// nullopt without a refresh token or without any known lifetime.
//
// NOTE: the absolute lifetime is counted from the last refresh, which is right only when that
// refresh rotated the refresh token. For providers that never rotate it, it is ignored,
// because refreshing cannot extend it.
std::optional<TimePoint> RefreshTokenExpiresAt(const TokenSet& tokens,
                                               const ProviderConfig& provider);

// Returns a start time for each refresh of `due` (sorted ascending) under a limit of
// `per_second` starts in any one-second window. Starts are at least 1 s / per_second apart. A
// refresh starts at its due time when the limit allows, and earlier when the refreshes due
// after it would otherwise need more than the limit, so a burst of due times is spread over
// the time before it. No start falls before `now`, so when the limit cannot fit every refresh
// before its due time, the latest ones start late. `per_second` must be positive.
std::vector<TimePoint> PlanRefreshStarts(std::span<const TimePoint> due, TimePoint now,
                                         double per_second);

}  // namespace credgate::credentials
