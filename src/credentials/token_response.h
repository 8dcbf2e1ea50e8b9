// Parses a token endpoint response (RFC 6749 §5.1 success, §5.2 error) into a TokenSet, and
// classifies the errors so that callers know whether to retry, ask for a new login, or report
// a provider misconfiguration.
#pragma once

#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "credentials/model.h"
#include "http/client.h"

namespace credgate::credentials {

// Reasons (Error::reason) of errors that carry no OAuth error code of the provider's own.
inline constexpr std::string_view kInvalidTokenResponse = "invalid_token_response";
inline constexpr std::string_view kTokenEndpointUnavailable = "token_endpoint_unavailable";

// Parses `response` from the token endpoint of provider `provider_id`.
//
// Accepts a JSON object or a form-encoded body. `expires_in` may be a number, a numeric string
// or absent, which leaves the expiry unknown. `token_type` may be absent or "Bearer" in any
// case. An absent or empty `scope` means `requested_scopes` were granted (RFC 6749 §5.1).
// `now` becomes obtained_at and the base of expires_at.
//
// Errors, never a TokenSet, for a body with an `error` member (even with HTTP 200), an HTML
// page or any other body that is not a token response. Error::reason is the provider's `error`
// code when it sent one, else kInvalidTokenResponse or kTokenEndpointUnavailable. The message
// names the provider and quotes its error_description, with token-like words redacted. Codes:
// kFailedPrecondition for invalid_grant, kUnavailable for HTTP 429 and 5xx, server_error and
// temporarily_unavailable, kBadGateway for everything else.
Result<TokenSet> ParseTokenResponse(const http::ClientResponse& response,
                                    std::string_view requested_scopes, TimePoint now,
                                    std::string_view provider_id);

enum class TokenErrorKind {
  kReloginRequired,   // invalid_grant: the grant was revoked or expired, so the user must log in.
  kProviderSettings,  // invalid_client, unauthorized_client: fix the provider's settings.
  kTransient,         // 429, 5xx, timeouts, unreachable, temporarily_unavailable: retry later.
  kOther,             // Any other failure. Retrying the same request will fail the same way.
};

// Classifies an error from ParseTokenResponse or from the HttpClient call before it.
TokenErrorKind ClassifyTokenError(const Error& error);

// Returns the first 64 characters of an OAuth `error` code without the characters that RFC 6749
// §5.2 and §4.1.2.1 exclude from it (controls, non-ASCII, '"' and '\'), so that a hostile value
// cannot break a log line or a message.
std::string SanitizeErrorCode(std::string_view code);

// Returns `text` limited to 300 printable ASCII characters, with every word of 20 or more
// characters that consists only of base64, base64url and JWT characters replaced by
// "[redacted]", so that a provider's error_description cannot copy a token into a log.
std::string RedactDescription(std::string_view text);

}  // namespace credgate::credentials
