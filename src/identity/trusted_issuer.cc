#include "identity/trusted_issuer.h"

#include <fmt/format.h>

#include <boost/url/parse.hpp>

namespace credgate::identity {
namespace {

Error ConfigError(const TrustedIssuer& issuer, std::string_view problem) {
  return MakeError(ErrorCode::kInvalidArgument,
                   fmt::format("trusted issuer '{}': {}", issuer.id, problem));
}

}  // namespace

bool IsAllowedKeyUrl(std::string_view url) {
  boost::system::result<boost::urls::url_view> parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || !parsed->has_authority() || parsed->host().empty()) return false;
  if (parsed->scheme() == "https") return true;
  if (parsed->scheme() != "http") return false;
  const std::string host = parsed->host();
  return host == "127.0.0.1" || host == "[::1]" || host == "localhost";
}

Status ValidateTrustedIssuer(const TrustedIssuer& issuer) {
  if (issuer.id.empty()) return ConfigError(issuer, "'id' is empty. Set a unique name");
  if (issuer.issuer.empty()) {
    return ConfigError(issuer, "'issuer' is empty. Set it to the exact 'iss' of its tokens");
  }
  if (issuer.audiences.empty()) {
    return ConfigError(issuer, "'audiences' is empty. List at least one accepted 'aud'");
  }
  for (const std::string& audience : issuer.audiences) {
    if (audience.empty()) return ConfigError(issuer, "'audiences' contains an empty value");
  }

  if (issuer.jwks_uri) {
    if (!IsAllowedKeyUrl(*issuer.jwks_uri)) {
      return ConfigError(issuer,
                         fmt::format("'jwks_uri' {} is not an https URL", *issuer.jwks_uri));
    }
  } else if (!IsAllowedKeyUrl(DiscoveryUrl(issuer.issuer))) {
    return ConfigError(issuer, fmt::format("'issuer' {} is not an https URL, so OpenID Connect "
                                           "discovery cannot be used; set 'jwks_uri'",
                                           issuer.issuer));
  }

  const ClaimNames& claims = issuer.claims;
  for (const std::string* name : {&claims.object_id, &claims.object_id_fallback, &claims.tenant_id,
                                  &claims.groups, &claims.app_id, &claims.app_id_fallback}) {
    if (name->empty())
      return ConfigError(issuer, "a claim name is empty. Name a claim or keep the default");
  }

  if (issuer.clock_skew < std::chrono::seconds(0) || issuer.clock_skew > kMaxClockSkew) {
    return ConfigError(issuer, fmt::format("'clock_skew' {} s is outside 0 to {} s",
                                           issuer.clock_skew.count(), kMaxClockSkew.count()));
  }
  return OkStatus();
}

std::string DiscoveryUrl(std::string_view issuer) {
  if (issuer.ends_with('/')) issuer.remove_suffix(1);
  return std::string(issuer) + "/.well-known/openid-configuration";
}

}  // namespace credgate::identity
