// LoginFlow: the browser side of a sign-in, served on the gateway listener under /.credgate/.
//
//   GET /.credgate/login/{link token}  consumes the single-use login link, starts an
//       authorization (state + PKCE S256), sets a cookie that binds it to this browser, and
//       redirects to the provider's authorization URL.
//   GET /.credgate/callback            checks state and cookie, exchanges the code at the token
//       URL, stores the tokens sealed, marks the connection Connected, and redirects to the
//       link's post-login URL (or shows a success page).
//
// Any failure shows an error page that says what went wrong and what to do, and stores no
// token. Thread-safe; one LoginFlow serves every request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string_view>

#include "credentials/token_manager.h"
#include "http/buffered.h"
#include "runtime/services.h"

namespace credgate::gateway {

inline constexpr std::string_view kReservedPrefix = "/.credgate/";

class LoginFlow {
 public:
  LoginFlow(runtime::Services& services, credentials::TokenPersistence& persistence)
      : services_(services), persistence_(persistence) {}

  boost::asio::awaitable<http::Response> Handle(http::Request request,
                                                const http::RequestInfo& info);

 private:
  boost::asio::awaitable<http::Response> StartLogin(std::string_view link_token,
                                                    const http::Request& request,
                                                    const http::RequestInfo& info);
  boost::asio::awaitable<http::Response> Callback(std::string_view query,
                                                  const http::Request& request,
                                                  const http::RequestInfo& info);
  boost::asio::awaitable<void> RecordLoginFailure(const std::string& connection_key,
                                                  const std::string& code,
                                                  const std::string& message);

  runtime::Services& services_;
  credentials::TokenPersistence& persistence_;
};

}  // namespace credgate::gateway
