// TokenExchange: the OAuth 2.0 Token Exchange endpoint (RFC 8693) of the gateway listener, at
// POST /.credgate/token. An application presents its own JWT as the subject token and names a
// connection as `resource` or `audience`, and receives that connection's current access token.
// It runs the checks of get-authorization-context through AuthorizationService::Issue(): JWT
// validation against the trusted issuers, the connection's access policies, a refresh when the
// token is about to expire, and the audit record.
//
// Request (application/x-www-form-urlencoded, RFC 8693 §2.1):
//   grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//   subject_token=<caller JWT>
//   subject_token_type=urn:ietf:params:oauth:token-type:jwt (or ...:access_token)
//   resource=<target> and/or audience=<target>, where every target names the same connection as
//     "<provider>/<connection>", its management path
//     "/authorizationProviders/<provider>/authorizations/<connection>", or an absolute URL whose
//     path is that management path.
//   requested_token_type, when present, must be ...:token-type:access_token. scope is ignored,
//   because the connection's token carries the scopes of its sign-in. actor_token is rejected.
//
// The subject token is the caller's only credential: the endpoint takes no client
// authentication.
//
// Response (RFC 8693 §2.2.1), always with Cache-Control: no-store:
//   200 {"access_token", "issued_token_type": "...:token-type:access_token",
//        "token_type": "Bearer", "expires_in" (seconds, when the expiry is known)}
//   400 invalid_request, unsupported_grant_type or invalid_target (unknown connection)
//   401 invalid_grant: the subject token is missing, expired, or not from a trusted issuer
//   403 access_denied: no access policy of the connection names the caller
//   503 temporarily_unavailable: the connection is not signed in, needs a new sign-in, or its
//       provider or an issuer's keys cannot be reached
// Error bodies follow RFC 6749 §5.2: {"error", "error_description"}. RFC 8693 §2.2.2 names
// invalid_request for an invalid subject token; credgate sends invalid_grant with 401, as
// get-authorization-context sends 401 for an invalid caller JWT.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "gateway/authorization_service.h"
#include "http/buffered.h"

namespace credgate::gateway {

inline constexpr std::string_view kTokenExchangePath = "/.credgate/token";
inline constexpr std::string_view kTokenExchangeGrantType =
    "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr std::string_view kJwtTokenType = "urn:ietf:params:oauth:token-type:jwt";
inline constexpr std::string_view kAccessTokenType =
    "urn:ietf:params:oauth:token-type:access_token";

struct TokenExchangeRequest {
  std::string subject_token;
  std::string provider_id;
  std::string connection_id;
};

// Parses a connection target: "<provider>/<connection>", the connection's management path, or an
// absolute URL with that path. Errors: kInvalidArgument with reason "invalid_target".
Result<std::pair<std::string, std::string>> ParseConnectionTarget(std::string_view target);

// Parses and checks a form-encoded token exchange request. Errors: kInvalidArgument whose reason
// is the OAuth error code ("invalid_request", "unsupported_grant_type", "invalid_target").
Result<TokenExchangeRequest> ParseTokenExchangeRequest(std::string_view form_body);

// The OAuth error of a failed exchange: the HTTP status and the RFC 6749 §5.2 error code.
struct OAuthError {
  int status = 400;
  std::string_view error;
};

// Maps an error of ParseTokenExchangeRequest() or AuthorizationService::Issue() to the OAuth
// error the caller receives.
OAuthError OAuthErrorFor(const Error& error);

// Builds the RFC 6749 §5.2 error response. The description keeps only the characters that
// §5.2 allows (printable ASCII without '"' and '\').
http::Response OAuthErrorResponse(const OAuthError& oauth, std::string_view description,
                                  unsigned version);

// Exchanges by outcome, for metrics.
struct TokenExchangeCounters {
  std::atomic<uint64_t> issued{0};
  std::atomic<uint64_t> invalid_request{0};  // Also unsupported_grant_type and invalid_target.
  std::atomic<uint64_t> invalid_grant{0};
  std::atomic<uint64_t> access_denied{0};
  std::atomic<uint64_t> unavailable{0};
};

// Thread-safe; one instance serves every request. `authorization` and `clock` must outlive it.
class TokenExchange {
 public:
  TokenExchange(AuthorizationService& authorization, const Clock& clock)
      : authorization_(authorization), clock_(clock) {}

  // Handles one request to kTokenExchangePath whose body has been read. Never throws.
  boost::asio::awaitable<http::Response> Handle(const http::Request& request,
                                                const http::RequestInfo& info);

  const TokenExchangeCounters& counters() const { return counters_; }

 private:
  http::Response Reject(const Error& error, const http::RequestInfo& info, unsigned version);

  AuthorizationService& authorization_;
  const Clock& clock_;
  TokenExchangeCounters counters_;
};

}  // namespace credgate::gateway
