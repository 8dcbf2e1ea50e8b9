// LoginSessions: the short-lived, single-use state of a user's sign-in, held in memory.
//
// A sign-in goes through three steps. An administrator or the management API creates a login
// link for a connection (CreateLoginLink) and gives it to the user. When the user opens it,
// the gateway consumes the link (ConsumeLoginLink) and shows a confirmation page for a consent
// prompt (BeginConsent), whose binding goes in a cookie and whose form token goes in the page's
// form. When the user continues, the gateway checks the form and the cookie (AnswerConsent) and
// begins an authorization (BeginAuthorization). It sets the returned binding in a cookie and
// redirects the browser to the provider with the returned state and PKCE challenge.
// On the callback the gateway completes the authorization (CompleteAuthorization) with the
// `state` parameter and the cookie, and exchanges the code with the returned code verifier.
//
// Link tokens, prompt handles, form tokens and states are 32 random bytes in base64url. They are
// stored under their SHA-256, so the maps never contain a usable handle. Everything is lost on
// restart, which only forces users who are signing in at that moment to start again.
//
// Thread-safe. `clock` and `random` must outlive the LoginSessions.
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

namespace credgate::credentials {

struct LoginLinkInfo {
  std::string provider_id;
  std::string connection_id;
  std::string post_login_redirect_url;  // Browser target after the callback. May be "".
  // The caller that created the link, as the confirmation page names it, for example
  // "admin key 'bootstrap'". May be "" for links created without a caller.
  std::string requested_by;
};

// The values of a confirmation page that asks the user whether to sign in.
struct ConsentPrompt {
  std::string handle;  // Names the prompt in the page's form.
  Secret binding;      // For a cookie, so that only the browser that opened the link can answer.
  Secret form_token;   // For a hidden form field, so that another site cannot post the form.
};

// The values the gateway needs to send the browser to the provider.
struct AuthorizationStart {
  std::string state;           // The `state` parameter (RFC 6749 §10.12).
  Secret code_verifier;        // Kept by credgate, so the gateway need not store it.
  std::string code_challenge;  // S256 challenge of code_verifier (RFC 7636 §4.2).
  // A random nonce for a cookie in the user's browser, so that a callback carrying this state
  // from another browser fails.
  Secret binding;
};

struct PendingConsent {
  LoginLinkInfo link;
  Secret binding;
  Secret form_token;
};

struct PendingAuthorization {
  LoginLinkInfo link;
  Secret code_verifier;
  Secret binding;
  TimePoint started_at;
};

class LoginSessions {
 public:
  struct Options {
    std::chrono::seconds link_lifetime{std::chrono::minutes(10)};
    std::chrono::seconds authorization_lifetime{std::chrono::minutes(10)};
    // Upper bounds on unexpired links, and on pending authorizations and on consent prompts
    // (each separately); each is about 300 bytes.
    size_t max_login_links = 10'000;
    size_t max_pending_authorizations = 10'000;
  };

  LoginSessions(const Clock& clock, RandomSource& random);
  LoginSessions(const Clock& clock, RandomSource& random, Options options);

  // Creates a single-use login link token. Errors: kResourceExhausted when max_login_links
  // unexpired links exist.
  Result<std::string> CreateLoginLink(std::string provider_id, std::string connection_id,
                                      std::string post_login_redirect_url,
                                      std::string requested_by = "");

  // Consumes a login link token. Errors: kNotFound for an unknown or already used token,
  // kFailedPrecondition for an expired one.
  Result<LoginLinkInfo> ConsumeLoginLink(std::string_view link_token);

  // Stores a consent prompt for `link`, which expires with authorization_lifetime. Errors:
  // kResourceExhausted when max_pending_authorizations prompts are pending.
  Result<ConsentPrompt> BeginConsent(LoginLinkInfo link);

  // Removes the prompt `handle` and returns its link when `binding` (the cookie value) and
  // `form_token` equal the prompt's, compared in constant time. The prompt is removed even when
  // they do not match, so a prompt is answered once. Errors: kNotFound for an unknown or
  // answered prompt, kFailedPrecondition for an expired one, kPermissionDenied for a binding or
  // form token mismatch.
  Result<LoginLinkInfo> AnswerConsent(std::string_view handle, std::string_view binding,
                                      std::string_view form_token);

  // Stores a pending authorization for `link` and returns its state, PKCE values and binding.
  // Errors: kResourceExhausted when max_pending_authorizations are pending.
  Result<AuthorizationStart> BeginAuthorization(LoginLinkInfo link);

  // Removes the pending authorization for `state` and returns it when `binding` (the cookie
  // value) equals its binding, compared in constant time. The attempt is removed even when the
  // binding does not match, so a state is usable once. Errors: kNotFound for an unknown or
  // replayed state, kFailedPrecondition for an expired one, kPermissionDenied for a binding
  // mismatch.
  Result<PendingAuthorization> CompleteAuthorization(std::string_view state,
                                                     std::string_view binding);

  size_t PendingLinkCount() const;
  size_t PendingAuthorizationCount() const;

 private:
  const Clock& clock_;
  RandomSource& random_;
  const Options options_;

  mutable std::mutex mutex_;
  internal::ExpiringMap<LoginLinkInfo> links_;                  // Guarded by mutex_.
  internal::ExpiringMap<PendingConsent> prompts_;               // Guarded by mutex_.
  internal::ExpiringMap<PendingAuthorization> authorizations_;  // Guarded by mutex_.
};

}  // namespace credgate::credentials
