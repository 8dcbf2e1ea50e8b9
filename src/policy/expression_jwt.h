// The Jwt and BasicAuthCredentials values that the String methods AsJwt(), TryParseJwt() and
// AsBasic() return. Internal to the policy module.
#pragma once

#include <memory>
#include <string_view>

#include "policy/value.h"

namespace credgate::policy::internal {

// Parses `token`, a compact JWS, into a Jwt object WITHOUT verifying its signature or claims,
// as APIM's AsJwt() does: validate-jwt is the statement that verifies. Returns nullptr unless
// the token has three dot-separated base64url parts whose first two are JSON objects.
// Members: Algorithm, Type, Id, Issuer, Subject, Audiences (string array), Claims,
// ExpirationTime, NotBefore and IssuedAt (DateTime, or null when the claim is absent).
// Claims maps each claim to a string array: the indexer returns the array, and
// GetValueOrDefault(name[, default]) returns its items joined with ",".
std::shared_ptr<const Object> ParseJwtObject(std::string_view token);

// Parses an Authorization header value "Basic base64(user:password)" into an object with
// Username and Password. Returns nullptr for another scheme, invalid base64 or a missing ':'.
std::shared_ptr<const Object> ParseBasicCredentials(std::string_view header_value);

}  // namespace credgate::policy::internal
