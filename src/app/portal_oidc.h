// PortalOidc: "Sign in with OpenID Connect" for the web portal, served on the management
// listener when adminJwt.portalClientId is configured. It runs the authorization code flow with
// PKCE (RFC 6749 §4.1, RFC 7636) and a nonce (OpenID Connect Core 1.0 §3.1) at the
// administrator issuer, and keeps the resulting ID token in a server-side session:
//
//   GET  /portal/oidc/session   {"configured","signedIn","principal","csrfToken"}; no credential
//   GET  /portal/oidc/start     302 to the issuer's authorization endpoint, with a cookie that
//                               binds the state to this browser
//   GET  /portal/oidc/callback  checks state and cookie, redeems the code at the token endpoint,
//                               validates the ID token (AdminJwtAuthenticator, then the nonce),
//                               sets the HttpOnly session cookie and redirects to /portal/
//   POST /portal/oidc/sign-out  ends the session; needs the X-CSRF-Token header
//
// The ID token never reaches the browser: the management listener authenticates a call that
// carries the session cookie and no Authorization header with the session's ID token
// (SessionCredential), so the role comes from the role claim exactly as for a pasted JWT, and the
// session stops working when the token expires. Such a call must carry the session's CSRF token
// in X-CSRF-Token, which a page of another origin cannot read or send without a CORS preflight
// that the listener never grants.
//
// The issuer's endpoints come from its discovery document, fetched on the first sign-in and
// kept until the process stops; a failed fetch is retried by the next sign-in.
//
// Thread-safe. The client, authenticator, clock and random source must outlive the object.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "app/portal_oidc_sessions.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "http/buffered.h"
#include "http/client.h"
#include "management/admin_jwt.h"

namespace credgate::app {

inline constexpr std::string_view kPortalOidcPathPrefix = "/portal/oidc/";
// The cookie that binds a pending sign-in to the browser, limited to the callback path.
inline constexpr std::string_view kPortalSignInCookie = "credgate_portal_sign_in";
// The session cookie, sent with every request to the management listener.
inline constexpr std::string_view kPortalSessionCookie = "credgate_portal_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

struct PortalOidcSettings {
  std::string issuer;
  std::string client_id;
  Secret client_secret;  // Empty for a public client.
  std::string redirect_url;
  std::string scopes;
  bool secure_cookies = false;  // True when the management listener has TLS.
};

// The endpoints of the issuer's discovery document (OpenID Connect Discovery 1.0 §3).
struct PortalOidcEndpoints {
  std::string authorization_endpoint;
  std::string token_endpoint;
};

// Parses a discovery document. Errors (kUnavailable): not a JSON object, an `issuer` other than
// `issuer` (Discovery §4.3), or an authorization or token endpoint that is not an absolute http
// or https URL.
Result<PortalOidcEndpoints> ParseDiscoveryDocument(std::string_view body, std::string_view issuer);

// Totals since start, for metrics.
struct PortalOidcCounters {
  std::atomic<uint64_t> started{0};          // Redirects to the authorization endpoint.
  std::atomic<uint64_t> signed_in{0};        // Sessions created.
  std::atomic<uint64_t> provider_errors{0};  // Callbacks with `error`, such as access_denied.
  std::atomic<uint64_t> invalid_state{0};    // Unknown, used, expired or unbound state.
  std::atomic<uint64_t> exchange_failed{0};  // Token endpoint unreachable or refusing the code.
  std::atomic<uint64_t> invalid_token{0};    // ID token invalid, or its nonce wrong.
  std::atomic<uint64_t> forbidden{0};        // Valid ID token without a known role.
  std::atomic<uint64_t> unavailable{0};      // Discovery document or JWKS unreachable.
  std::atomic<uint64_t> csrf_rejected{0};    // Session calls without the right CSRF token.
  std::atomic<uint64_t> signed_out{0};
};

class PortalOidc {
 public:
  PortalOidc(PortalOidcSettings settings, http::HttpClient& client,
             management::AdminJwtAuthenticator& authenticator, const Clock& clock,
             RandomSource& random);

  // Returns the response to a request below kPortalOidcPathPrefix. Never fails: every error
  // becomes a page or a JSON error, and a counter.
  boost::asio::awaitable<http::Response> Handle(const http::Request& request,
                                                std::string_view request_id);

  // Returns the ID token of the session that `request` names by cookie, for a management call
  // without an Authorization header, or nullopt when it carries no session cookie. Errors:
  // kUnauthenticated for an ended or expired session, kPermissionDenied when X-CSRF-Token is
  // missing or wrong.
  Result<std::optional<Secret>> SessionCredential(const http::Request& request);

  const PortalOidcCounters& counters() const { return counters_; }
  const PortalOidcSessions& sessions() const { return sessions_; }

 private:
  boost::asio::awaitable<Result<PortalOidcEndpoints>> Endpoints();
  boost::asio::awaitable<http::Response> Start(const http::Request& request,
                                               std::string_view request_id);
  boost::asio::awaitable<http::Response> Callback(const http::Request& request,
                                                  std::string_view request_id);
  // Redeems `code` at the token endpoint and returns the ID token.
  boost::asio::awaitable<Result<Secret>> RedeemCode(const PortalOidcEndpoints& endpoints,
                                                    std::string code, Secret code_verifier);
  http::Response SessionStatus(const http::Request& request) const;
  http::Response SignOut(const http::Request& request, std::string_view request_id);

  const PortalOidcSettings settings_;
  http::HttpClient& client_;
  management::AdminJwtAuthenticator& authenticator_;
  PortalOidcSessions sessions_;
  PortalOidcCounters counters_;

  mutable std::mutex endpoints_mutex_;
  std::optional<PortalOidcEndpoints> endpoints_;  // Guarded by endpoints_mutex_.
};

// Returns the response to a request below kPortalOidcPathPrefix when the portal has no OpenID
// Connect sign-in: {"configured":false} for the session path, 404 for the others.
http::Response PortalOidcNotConfigured(const http::Request& request);

}  // namespace credgate::app
