// LoginFlow: the browser side of a sign-in, served on the gateway listener under /.credgate/.
//
//   GET /.credgate/login/{link token}  consumes the single-use login link and shows a
//       confirmation page that names the provider, the connection and who created the link,
//       with Continue and Cancel. A browser that a confirmed consent code trusts for the
//       connection (credentials/consent_codes.h) skips the page.
//   POST /.credgate/consent            receives the page's form. Continue starts an authorization
//       (state + PKCE S256), sets a cookie that binds it to this browser, and redirects to the
//       provider's authorization URL; Cancel ends the sign-in. The form must carry the page's
//       form token and come with the page's cookie, so another site cannot answer it.
//   GET /.credgate/callback            checks state and cookie and the `iss` parameter
//       (RFC 9207), exchanges the code at the token URL, stores the tokens sealed, marks the
//       connection Connected, and redirects to the link's post-login URL with a `consentCode`
//       parameter (or shows a success page).
//
// Any failure shows an error page that says what went wrong and what to do, and stores no
// token. Thread-safe; one LoginFlow serves every request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "credentials/login_sessions.h"
#include "credentials/token_manager.h"
#include "http/buffered.h"
#include "runtime/services.h"

namespace credgate::gateway {

inline constexpr std::string_view kReservedPrefix = "/.credgate/";

// Totals since start, for metrics: one counter per kind of rejected or abandoned sign-in step.
struct LoginFlowCounters {
  std::atomic<uint64_t> consent_shown{0};      // Confirmation pages served.
  std::atomic<uint64_t> consent_skipped{0};    // Pages skipped for a trusted browser.
  std::atomic<uint64_t> consent_accepted{0};   // Continue.
  std::atomic<uint64_t> consent_cancelled{0};  // Cancel.
  // Forms without the page's cookie or form token, from another origin, or for an unknown or
  // expired page.
  std::atomic<uint64_t> consent_rejected{0};
  std::atomic<uint64_t> issuer_mismatch{0};  // Callback whose iss is another server's.
  std::atomic<uint64_t> issuer_missing{0};   // Callback without iss from a provider that sends it.
};

class LoginFlow {
 public:
  LoginFlow(runtime::Services& services, credentials::TokenPersistence& persistence)
      : services_(services), persistence_(persistence) {}

  boost::asio::awaitable<http::Response> Handle(http::Request request,
                                                const http::RequestInfo& info);

  const LoginFlowCounters& counters() const { return counters_; }

 private:
  http::Response OpenLoginLink(std::string_view link_token, const http::Request& request,
                               const http::RequestInfo& info);
  http::Response AnswerConsent(const http::Request& request, const http::RequestInfo& info);
  // Begins an authorization for `link` and returns the redirect to the provider with
  // `redirect_status` (302 for a link, 303 for a form), setting the login cookie.
  http::Response RedirectToProvider(credentials::LoginLinkInfo link, int redirect_status,
                                    const http::Request& request, const http::RequestInfo& info);
  boost::asio::awaitable<http::Response> Callback(std::string_view query,
                                                  const http::Request& request,
                                                  const http::RequestInfo& info);
  // Returns the redirect to the link's post-login URL with a consentCode parameter, and sets
  // the browser-token cookie that the code trusts once an application confirms it.
  http::Response PostLoginRedirect(const credentials::LoginLinkInfo& link,
                                   const std::string& connection_key,
                                   const http::Request& request, const http::RequestInfo& info);
  boost::asio::awaitable<void> RecordLoginFailure(const std::string& connection_key,
                                                  const std::string& code,
                                                  const std::string& message);
  bool SecureCookies() const;

  runtime::Services& services_;
  credentials::TokenPersistence& persistence_;
  LoginFlowCounters counters_;
};

}  // namespace credgate::gateway
