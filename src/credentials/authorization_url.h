// Builds the authorization request URL (RFC 6749 §4.1.1, RFC 7636 §4.3) that a login link
// redirects the user's browser to.
#pragma once

#include <string>

#include "common/result.h"
#include "credentials/model.h"

namespace credgate::credentials {

struct AuthorizationRequest {
  std::string redirect_uri;    // credgate's callback URL, registered with the provider.
  std::string state;           // The value LoginSessions::BeginAuthorization returned.
  std::string code_challenge;  // S256 challenge; empty sends no PKCE parameters.
  std::string scopes;          // Space-separated; empty uses the provider's scopes.
};

// Returns the provider's authorization URL with response_type, client_id, redirect_uri, the
// scopes (under the provider's scope parameter, joined with its separator), state, and, when the
// provider uses PKCE, code_challenge and code_challenge_method=S256, followed by the provider's
// extra authorization parameters. Parameters already present in the provider's URL (for example
// prompt=consent) are kept as written, except that a parameter credgate sets replaces one with
// the same name. Values are percent-encoded, so a space becomes %20 and '+' becomes %2B.
// Errors: kInvalidArgument when the provider's URL does not parse.
Result<std::string> BuildAuthorizationUrl(const ProviderConfig& provider,
                                          const AuthorizationRequest& request);

}  // namespace credgate::credentials
