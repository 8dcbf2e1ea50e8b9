// AdminJwtAuthenticator: optional authentication of administrators by JWT on the management
// API. Tokens are validated like callers' tokens (identity::JwtValidator: signature from the
// issuer's JWKS, `iss`, `aud`, `exp`, `nbf`), but against one administrator issuer configured
// at start, never against the trusted issuers that the management API itself manages.
//
// The role comes from the claim named `role_claim`: a string or an array of strings, whose
// values "reader", "operator" and "admin" map to those roles. With several, the most
// privileged one counts; other values are ignored. The principal id is the token's `sub`, else
// its object id claim.
//
// Thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "http/client.h"
#include "identity/trusted_issuer.h"
#include "identity/validator.h"
#include "management/admin_keys.h"

namespace credgate::management {

struct AdminJwtSettings {
  identity::TrustedIssuer issuer;  // Its id is used in logs only.
  std::string role_claim = "roles";
};

class AdminJwtAuthenticator {
 public:
  // Checks the issuer (identity::ValidateTrustedIssuer) and a non-empty role claim name.
  // Errors: kInvalidArgument naming the field.
  static Result<std::unique_ptr<AdminJwtAuthenticator>> Create(
      AdminJwtSettings settings, std::shared_ptr<http::HttpClient> client,
      std::shared_ptr<const Clock> clock);

  // Returns true when `credential` has the shape of a JWS compact serialization (three
  // dot-separated parts), so that it is worth validating as a JWT instead of as an admin key.
  static bool LooksLikeJwt(std::string_view credential);

  // Validates `token` and returns its principal. Fails with kUnauthenticated when the token is
  // invalid, kUnavailable when the issuer's keys cannot be fetched, and kPermissionDenied
  // (reason "Forbidden") when the token is valid but carries no known role.
  boost::asio::awaitable<Result<AdminPrincipal>> Authenticate(std::string token);

  const AdminJwtSettings& settings() const { return settings_; }

 private:
  AdminJwtAuthenticator(AdminJwtSettings settings, std::unique_ptr<identity::JwtValidator> v)
      : settings_(std::move(settings)), validator_(std::move(v)) {}

  AdminJwtSettings settings_;
  std::unique_ptr<identity::JwtValidator> validator_;
};

}  // namespace credgate::management
