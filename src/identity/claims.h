// Checks of the registered claims of a JWT payload (RFC 7519 §4.1) against a TrustedIssuer, and
// the CallerIdentity that a successful check produces.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "identity/trusted_issuer.h"

namespace credgate::identity {

// Who the caller is, as stated by a validated token. Immutable once built.
struct CallerIdentity {
  std::string issuer_id;  // TrustedIssuer::id of the issuer that signed the token.
  std::string issuer;     // The token's `iss`.
  std::string subject;    // `sub`, or "" when absent.
  std::string object_id;  // ClaimNames::object_id, else its fallback.
  std::string tenant_id;  // ClaimNames::tenant_id, or "".
  // ClaimNames::groups. Empty when the token lists no groups, and also when groups_overage is set.
  std::vector<std::string> groups;
  // True when the token replaces its groups by a reference (Entra ID's groups overage, signalled
  // by `_claim_names.groups` or `hasgroups`). The groups are then unknown, not empty.
  bool groups_overage = false;
  std::string app_id;  // ClaimNames::app_id, else its fallback, or "".
  TimePoint expires_at;
  boost::json::object payload;  // Every claim, for policies that read others.
};

// Checks `payload` of a token already matched to `issuer` by `iss` and returns the caller.
// Rules, each failing with kUnauthenticated:
// - `iss` equals issuer.issuer exactly (reason "UntrustedIssuer").
// - `aud`, a string or an array of strings, contains one of issuer.audiences ("InvalidAudience").
// - `exp` is required, and `exp`, `nbf` and `iat` are JSON numbers when present (NumericDate,
//   RFC 7519 §2). The token is rejected when now > exp + skew ("TokenExpired"), now + skew < nbf,
//   or iat > now + skew ("TokenNotYetValid").
// - `sub` and the identity claims are strings when present, groups an array of strings, and
//   the object id (or its fallback) is present ("InvalidJwt").
Result<CallerIdentity> CheckClaims(const boost::json::object& payload, const TrustedIssuer& issuer,
                                   TimePoint now);

// Formats `time` as an RFC 3339 UTC timestamp with second precision, for messages.
std::string FormatUtc(TimePoint time);

}  // namespace credgate::identity
