// PortalOidcSessions: the server-side state of the portal's OpenID Connect sign-in, held in
// memory.
//
// BeginSignIn() stores a pending sign-in (nonce and PKCE code verifier) under a new `state` and
// returns them with a binding for a cookie. The callback calls CompleteSignIn() with the
// `state` parameter and that cookie, which removes the pending sign-in whether or not the
// binding matches, so a state is usable once. After the ID token is validated, CreateSession()
// stores it under a new session id, which goes in an HttpOnly cookie, with a CSRF token that the
// portal sends in a header on every management call. FindSession() looks a session up and
// EndSession() removes it.
//
// States, bindings, session ids and CSRF tokens are 32 random bytes in base64url. The maps key
// entries by the SHA-256 of the state and of the session id, so they never contain a usable
// handle. Everything is lost on restart, which signs every portal user out.
//
// Thread-safe. `clock` and `random` must outlive the object.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "credentials/expiring_map.h"

namespace credgate::app {

// The values /portal/oidc/start needs to send the browser to the authorization endpoint.
struct PortalSignInStart {
  std::string state;           // The `state` parameter (RFC 6749 §10.12).
  std::string nonce;           // The `nonce` parameter (OpenID Connect Core 1.0 §3.1.2.1).
  std::string code_challenge;  // S256 challenge of the stored code verifier (RFC 7636 §4.2).
  Secret binding;              // For the cookie that ties the state to this browser.
};

// The state of a pending sign-in that CompleteSignIn() returns to the callback.
struct PendingPortalSignIn {
  std::string nonce;
  Secret code_verifier;
  Secret binding;
};

// A signed-in portal user.
struct PortalSession {
  Secret id_token;    // Presented to the management API as the administrator JWT.
  Secret csrf_token;  // Expected in the X-CSRF-Token header of every call.
  std::string principal;  // The token's `sub`, for logs and the portal's header.
};

// A session just created: the values for the session cookie and for the portal page.
struct CreatedPortalSession {
  Secret session_id;
  Secret csrf_token;
};

class PortalOidcSessions {
 public:
  struct Options {
    std::chrono::seconds sign_in_lifetime{std::chrono::minutes(10)};
    // Upper bound on a session's lifetime; a session also ends when its ID token expires.
    std::chrono::seconds max_session_lifetime{std::chrono::hours(8)};
    // Upper bounds on pending sign-ins and on sessions (each separately); each entry takes
    // about 2 KB, most of it the ID token.
    size_t max_pending_sign_ins = 10'000;
    size_t max_sessions = 10'000;
  };

  PortalOidcSessions(const Clock& clock, RandomSource& random);
  PortalOidcSessions(const Clock& clock, RandomSource& random, Options options);

  // Stores a pending sign-in and returns its state, nonce, PKCE challenge and binding.
  // Errors: kResourceExhausted when max_pending_sign_ins are pending.
  Result<PortalSignInStart> BeginSignIn();

  // Removes the pending sign-in of `state` and returns it when `binding` (the cookie value)
  // equals its binding, compared in constant time. Errors: kNotFound for an unknown or used
  // state, kFailedPrecondition for an expired one, kPermissionDenied for a binding mismatch.
  Result<PendingPortalSignIn> CompleteSignIn(std::string_view state, std::string_view binding);

  // Stores a session for `id_token`, which ends at `expires_at` or after max_session_lifetime,
  // whichever is first. Errors: kResourceExhausted when max_sessions exist, kFailedPrecondition
  // when `expires_at` has passed.
  Result<CreatedPortalSession> CreateSession(Secret id_token, std::string principal,
                                             TimePoint expires_at);

  // Returns a copy of the session `session_id`. Errors: kUnauthenticated for an unknown, ended
  // or expired session.
  Result<PortalSession> FindSession(std::string_view session_id) const;

  // Removes the session `session_id`. Returns whether it existed.
  bool EndSession(std::string_view session_id);

  size_t PendingSignInCount() const;
  size_t SessionCount() const;

 private:
  const Clock& clock_;
  RandomSource& random_;
  const Options options_;

  mutable std::mutex mutex_;
  credentials::internal::ExpiringMap<PendingPortalSignIn> sign_ins_;  // Guarded by mutex_.
  credentials::internal::ExpiringMap<PortalSession> sessions_;        // Guarded by mutex_.
};

}  // namespace credgate::app
