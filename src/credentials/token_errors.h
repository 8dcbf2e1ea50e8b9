// The failures of a token endpoint call, sorted by what credgate does next: ask for a new
// login, report the provider's client settings as wrong, retry later, or record the failure.
// Also the redaction applied to the provider's words before they reach a log, the store or a
// management response.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace credgate::credentials {

// Reasons (Error::reason) of errors that carry no OAuth error code of the provider's own.
inline constexpr std::string_view kInvalidTokenResponse = "invalid_token_response";
inline constexpr std::string_view kTokenEndpointUnavailable = "token_endpoint_unavailable";

enum class TokenErrorKind {
  kReloginRequired,   // The grant was revoked or expired, so the user must sign in again.
  kProviderSettings,  // The provider rejected credgate's client: fix the provider's settings.
  kTransient,         // 429, 5xx, timeouts, unreachable, temporarily_unavailable: retry later.
  kOther,             // Any other failure. Retrying the same request will fail the same way.
};

// Returns the kind of an OAuth `error` code, as returned by a token endpoint:
//   kReloginRequired: invalid_grant (RFC 6749 §5.2), and interaction_required, login_required
//     and consent_required (OpenID Connect Core 1.0 §3.1.2.6), which some providers return
//     when the user revoked consent or must authenticate again.
//   kProviderSettings: invalid_client, unauthorized_client, unsupported_grant_type (RFC 6749
//     §5.2), and Slack's bad_client_secret and invalid_client_id.
//   kTransient: temporarily_unavailable and server_error (RFC 6749 §4.1.2.1).
//   kOther: every other code.
TokenErrorKind KindOfErrorCode(std::string_view code);

// Classifies an error from ParseTokenResponse or from the HttpClient call before it: by its
// reason (KindOfErrorCode) first, then kTransient for kUnavailable and kDeadlineExceeded.
TokenErrorKind ClassifyTokenError(const Error& error);

// Returns the first 64 characters of an OAuth `error` code without the characters that RFC 6749
// §5.2 and §4.1.2.1 exclude from it (controls, non-ASCII, '"' and '\'), so that a hostile value
// cannot break a log line or a message.
std::string SanitizeErrorCode(std::string_view code);

// Returns `text` limited to 300 printable ASCII characters, with every word of 20 or more
// characters that consists only of base64, base64url and JWT characters replaced by
// "[redacted]", so that a provider's error_description cannot copy a token into a log.
std::string RedactDescription(std::string_view text);

// Returns a token endpoint's response body for administrators. When the body is a JSON object
// (`is_json`) or a form, the string value of every member named "code" or whose name contains
// "token" (except "token_type"), "secret", "password", "assertion" or "verifier" becomes
// "[redacted]", at any depth. The result is then limited and redacted like RedactDescription,
// but to 500 characters.
std::string RedactResponseBody(std::string_view body, bool is_json);

}  // namespace credgate::credentials
