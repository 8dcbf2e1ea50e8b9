#include "identity/claims.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <optional>

#include "identity/identity_errors.h"

namespace credgate::identity {
namespace {

// The last whole second a TimePoint can hold: 2262-04-11T23:47:16Z with libstdc++, whose
// system_clock counts nanoseconds in 64 bits. Larger NumericDates are rejected, so that
// converting one to a TimePoint cannot overflow.
constexpr double kMaxNumericDate = static_cast<double>(
    std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count());

// Reads the NumericDate claim `name`: nullopt when absent, an error when not a number in range.
Result<std::optional<double>> ReadNumericDate(const boost::json::object& payload,
                                              std::string_view name) {
  const boost::json::value* value = payload.if_contains(name);
  if (value == nullptr) return std::optional<double>();
  if (!value->is_number()) {
    return JwtError(fmt::format("JWT claim '{}' is not a number (RFC 7519 NumericDate)", name));
  }
  const double seconds = value->to_number<double>();
  if (!std::isfinite(seconds) || seconds < 0 || seconds > kMaxNumericDate) {
    return JwtError(fmt::format("JWT claim '{}' is outside the supported date range", name));
  }
  return std::optional<double>(seconds);
}

// Reads the string claim `name` into `out`: false when present but not a string.
bool ReadString(const boost::json::object& payload, std::string_view name, std::string& out) {
  const boost::json::value* value = payload.if_contains(name);
  if (value == nullptr) return true;
  if (!value->is_string()) return false;
  out = value->as_string();
  return true;
}

Status ReadStringWithFallback(const boost::json::object& payload, std::string_view name,
                              std::string_view fallback, std::string& out) {
  for (std::string_view claim : {name, fallback}) {
    if (!ReadString(payload, claim, out)) {
      return JwtError(fmt::format("JWT claim '{}' is not a string", claim));
    }
    if (payload.contains(claim)) return OkStatus();
  }
  return OkStatus();
}

Status CheckAudience(const boost::json::object& payload, const TrustedIssuer& issuer) {
  const boost::json::value* aud = payload.if_contains("aud");
  if (aud == nullptr) {
    return JwtError(fmt::format("JWT has no 'aud', which issuer '{}' requires", issuer.id),
                    kReasonInvalidAudience);
  }
  std::vector<std::string_view> audiences;
  if (aud->is_string()) {
    audiences.push_back(aud->as_string());
  } else if (aud->is_array()) {
    for (const boost::json::value& element : aud->as_array()) {
      if (!element.is_string()) return JwtError("JWT claim 'aud' contains a non-string value");
      audiences.push_back(element.as_string());
    }
  } else {
    return JwtError("JWT claim 'aud' is neither a string nor an array of strings");
  }

  for (std::string_view audience : audiences) {
    if (std::find(issuer.audiences.begin(), issuer.audiences.end(), audience) !=
        issuer.audiences.end()) {
      return OkStatus();
    }
  }
  const std::string shown = audiences.size() == 1
                                ? fmt::format("audience '{}'", audiences.front())
                                : fmt::format("audiences '{}'", fmt::join(audiences, "', '"));
  return JwtError(fmt::format("{} {} not accepted by issuer '{}'", shown,
                              audiences.size() == 1 ? "is" : "are", issuer.id),
                  kReasonInvalidAudience);
}

Status ReadGroups(const boost::json::object& payload, std::string_view name,
                  CallerIdentity& identity) {
  // Entra ID omits `groups` when a user has too many and points to Microsoft Graph instead,
  // through `_claim_names.groups` (access and ID tokens) or `hasgroups: true` (implicit flow).
  if (const boost::json::value* claim_names = payload.if_contains("_claim_names")) {
    if (claim_names->is_object() && claim_names->as_object().contains(name)) {
      identity.groups_overage = true;
    }
  }
  if (const boost::json::value* has_groups = payload.if_contains("hasgroups")) {
    if (has_groups->is_bool() && has_groups->as_bool()) identity.groups_overage = true;
  }

  const boost::json::value* groups = payload.if_contains(name);
  if (groups == nullptr || identity.groups_overage) return OkStatus();
  if (!groups->is_array()) {
    return JwtError(fmt::format("JWT claim '{}' is not an array of strings", name));
  }
  for (const boost::json::value& group : groups->as_array()) {
    if (!group.is_string()) {
      return JwtError(fmt::format("JWT claim '{}' contains a non-string value", name));
    }
    identity.groups.emplace_back(group.as_string());
  }
  return OkStatus();
}

}  // namespace

std::string FormatUtc(TimePoint time) {
  const std::time_t seconds = static_cast<std::time_t>(ToUnixSeconds(time));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

Result<CallerIdentity> CheckClaims(const boost::json::object& payload, const TrustedIssuer& issuer,
                                   TimePoint now) {
  CallerIdentity identity;
  identity.issuer_id = issuer.id;
  if (!ReadString(payload, "iss", identity.issuer) || identity.issuer != issuer.issuer) {
    return JwtError(
        fmt::format("JWT 'iss' does not equal the issuer '{}' of '{}'", issuer.issuer, issuer.id),
        kReasonUntrustedIssuer);
  }
  CREDGATE_RETURN_IF_ERROR(CheckAudience(payload, issuer));

  Result<std::optional<double>> exp = ReadNumericDate(payload, "exp");
  if (!exp.ok()) return exp.error();
  if (!exp->has_value()) return JwtError("JWT has no 'exp' claim, which is required");
  Result<std::optional<double>> nbf = ReadNumericDate(payload, "nbf");
  if (!nbf.ok()) return nbf.error();
  Result<std::optional<double>> iat = ReadNumericDate(payload, "iat");
  if (!iat.ok()) return iat.error();

  const double now_seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double skew = static_cast<double>(issuer.clock_skew.count());
  identity.expires_at = FromUnixSeconds(static_cast<int64_t>(std::floor(**exp)));
  if (now_seconds > **exp + skew) {
    return JwtError(fmt::format("token expired at {}", FormatUtc(identity.expires_at)),
                    kReasonTokenExpired);
  }
  if (nbf->has_value() && now_seconds + skew < **nbf) {
    return JwtError(fmt::format("token is not valid before {}",
                                FormatUtc(FromUnixSeconds(static_cast<int64_t>(**nbf)))),
                    kReasonTokenNotYetValid);
  }
  if (iat->has_value() && **iat > now_seconds + skew) {
    return JwtError(fmt::format("token is issued in the future, at {}",
                                FormatUtc(FromUnixSeconds(static_cast<int64_t>(**iat)))),
                    kReasonTokenNotYetValid);
  }

  if (!ReadString(payload, "sub", identity.subject)) {
    return JwtError("JWT claim 'sub' is not a string");
  }
  const ClaimNames& names = issuer.claims;
  CREDGATE_RETURN_IF_ERROR(ReadStringWithFallback(payload, names.object_id,
                                                  names.object_id_fallback, identity.object_id));
  if (identity.object_id.empty()) {
    return JwtError(fmt::format("JWT has neither '{}' nor '{}', so the caller has no id",
                                names.object_id, names.object_id_fallback));
  }
  if (!ReadString(payload, names.tenant_id, identity.tenant_id)) {
    return JwtError(fmt::format("JWT claim '{}' is not a string", names.tenant_id));
  }
  CREDGATE_RETURN_IF_ERROR(
      ReadStringWithFallback(payload, names.app_id, names.app_id_fallback, identity.app_id));
  CREDGATE_RETURN_IF_ERROR(ReadGroups(payload, names.groups, identity));

  identity.payload = payload;
  return identity;
}

}  // namespace credgate::identity
