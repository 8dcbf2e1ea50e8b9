// TrustedIssuer: configuration of one token issuer whose JWTs credgate accepts from callers,
// for example a Microsoft Entra ID tenant or any OpenID Connect server.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace credgate::identity {

// Names of the payload claims that make up a CallerIdentity. The defaults are those of Entra ID
// access tokens, and each fallback is read only when the primary claim is absent.
struct ClaimNames {
  std::string object_id = "oid";
  std::string object_id_fallback = "sub";
  std::string tenant_id = "tid";
  std::string groups = "groups";
  std::string app_id = "azp";
  std::string app_id_fallback = "appid";
};

struct TrustedIssuer {
  std::string id;      // Name of this entry in configuration, policies and logs.
  std::string issuer;  // Compared with `iss` byte for byte (RFC 7519 §4.1.1), never normalised.
  // Accepted `aud` values. A token is accepted when its `aud` contains at least one of them.
  std::vector<std::string> audiences;
  // URL of the JWKS. When absent, the JWKS URL is read from the OpenID Connect discovery
  // document at DiscoveryUrl(issuer).
  std::optional<std::string> jwks_uri;
  ClaimNames claims;
  // Tolerance for clock differences with the issuer, applied to `exp`, `nbf` and `iat`.
  std::chrono::seconds clock_skew{60};
};

// An upper bound on TrustedIssuer::clock_skew, because a larger one would keep expired tokens
// usable for a long time.
inline constexpr std::chrono::seconds kMaxClockSkew{600};

// Checks `issuer` once at configuration load. Errors (kInvalidArgument) name the field and the
// fix: an empty `id`, `issuer` or audience list, an empty audience or claim name, a `jwks_uri`
// (or an issuer when discovery is used) that is not an https URL, and a negative clock skew or
// one above kMaxClockSkew. Plain http is accepted only for the loopback hosts 127.0.0.1, [::1]
// and localhost, so that local test servers work.
Status ValidateTrustedIssuer(const TrustedIssuer& issuer);

// Returns whether `url` is an absolute https URL, or http on a loopback host.
bool IsAllowedKeyUrl(std::string_view url);

// Returns the OpenID Connect discovery URL of `issuer` (OpenID Connect Discovery 1.0 §4): the
// issuer without its trailing '/' followed by "/.well-known/openid-configuration".
std::string DiscoveryUrl(std::string_view issuer);

}  // namespace credgate::identity
