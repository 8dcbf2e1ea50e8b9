#include "credentials/refresh_timing.h"

#include <algorithm>
#include <cmath>

#include "credentials/token_response.h"

namespace credgate::credentials {

std::optional<TimePoint::duration> AccessTokenLifetime(const TokenSet& tokens,
                                                       const RefreshTiming& timing) {
  if (tokens.expires_at) return *tokens.expires_at - tokens.obtained_at;
  if (tokens.refresh_token.empty() || timing.default_token_lifetime.count() <= 0) {
    return std::nullopt;
  }
  return timing.default_token_lifetime;
}

std::optional<TimePoint> RefreshDueAt(const TokenSet& tokens, const RefreshTiming& timing) {
  const std::optional<TimePoint::duration> lifetime = AccessTokenLifetime(tokens, timing);
  if (!lifetime) return std::nullopt;
  const auto margin = std::min<TimePoint::duration>(timing.refresh_margin, *lifetime / 2);
  return tokens.obtained_at + *lifetime - margin;
}

std::optional<TimePoint> RefreshTokenExpiresAt(const TokenSet& tokens,
                                               const ProviderConfig& provider) {
  if (tokens.refresh_token.empty()) return std::nullopt;
  std::optional<std::chrono::seconds> lifetime;
  auto consider = [&lifetime](std::optional<std::chrono::seconds> candidate) {
    if (candidate && (!lifetime || *candidate < *lifetime)) lifetime = candidate;
  };

  // Some providers (GitHub Apps, for example) state the refresh token's lifetime.
  auto stated = ParseLifetimeSeconds(tokens.response.if_contains("refresh_token_expires_in"));
  if (stated.ok()) consider(*stated);
  if (provider.refresh_token_rotation != RefreshTokenRotation::kNever) {
    consider(provider.refresh_token_absolute_lifetime);
  }
  consider(provider.refresh_token_idle_lifetime);

  if (!lifetime) return std::nullopt;
  return tokens.obtained_at + *lifetime;
}

std::vector<TimePoint> PlanRefreshStarts(std::span<const TimePoint> due, TimePoint now,
                                         double per_second) {
  // Whole clock ticks, rounded up, so that per_second starts never fit in less than a second.
  const auto gap = TimePoint::duration(static_cast<TimePoint::rep>(
      std::ceil(static_cast<double>(TimePoint::duration(std::chrono::seconds(1)).count()) /
                per_second)));
  std::vector<TimePoint> starts(due.begin(), due.end());
  // Backward: each refresh starts no later than its due time and a gap before the next one.
  for (size_t i = starts.size(); i-- > 1;) {
    starts[i - 1] = std::min(starts[i - 1], starts[i] - gap);
  }
  // Forward: nothing starts in the past, and every start stays a gap after the previous one.
  for (size_t i = 0; i < starts.size(); ++i) {
    starts[i] = std::max(starts[i], now);
    if (i > 0) starts[i] = std::max(starts[i], starts[i - 1] + gap);
  }
  return starts;
}

}  // namespace credgate::credentials
