// Parses a token endpoint response (RFC 6749 §5.1 success, §5.2 error) into a TokenSet. The
// errors it returns are classified in token_errors.h.
#pragma once

#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "credentials/model.h"
#include "credentials/token_errors.h"
#include "http/client.h"

namespace credgate::credentials {

// The inputs of ParseTokenResponse besides the response itself.
struct TokenResponseOptions {
  std::string_view provider_id;       // Names the provider in error messages.
  std::string_view requested_scopes;  // Granted when the response has no scope (RFC 6749 §5.1).
  TimePoint now;                      // Becomes obtained_at and the base of expires_at.
};

// Parses `response` from a provider's token endpoint.
//
// Accepts what providers send besides RFC 6749 §5.1 JSON:
// - A JSON object or a form-encoded body, whatever the Content-Type says: a body that starts
//   with '{' is read as JSON, also when labelled text/plain or as a form.
// - `expires_in` as a number, a numeric string or absent (the expiry stays unknown), and
//   `expires` in its place (Facebook's older responses).
// - `token_type` absent or "Bearer" in any case (RFC 6749 §7.1). Every other type is rejected.
// - `scope` separated by spaces or commas, or as an array of strings, and stored
//   space-separated. An absent or empty scope means the requested scopes were granted.
//
// Errors, never a TokenSet, for:
// - a body with an `error` member, whatever the HTTP status (RFC 6749 §5.2). A string is the
//   OAuth error code; an object (Facebook Graph API style) gives its `type` as the code and its
//   `message` as the description;
// - a body with `"ok": false` (Slack style), with or without `error`;
// - an HTML page, an empty body, or any other body that is not a token response.
// Error::reason is the provider's error code when it sent one, else kInvalidTokenResponse or
// kTokenEndpointUnavailable. The message names the provider and quotes its description with
// token-like words redacted, and Error::details contains the body from RedactResponseBody. Codes:
// kFailedPrecondition for kReloginRequired codes, kUnavailable for HTTP 429 and 5xx and for
// kTransient codes, kBadGateway for everything else.
Result<TokenSet> ParseTokenResponse(const http::ClientResponse& response,
                                    const TokenResponseOptions& options);

// The same as ParseTokenResponse(response, {provider_id, requested_scopes, now}).
Result<TokenSet> ParseTokenResponse(const http::ClientResponse& response,
                                    std::string_view requested_scopes, TimePoint now,
                                    std::string_view provider_id);

// Reads a lifetime in seconds as token responses write it: a non-negative number or numeric
// string. Returns nullopt for a null or absent value (nullptr), and kInvalidArgument for
// anything else. Values above ten years are capped at ten years.
Result<std::optional<std::chrono::seconds>> ParseLifetimeSeconds(const boost::json::value* value);

}  // namespace credgate::credentials
