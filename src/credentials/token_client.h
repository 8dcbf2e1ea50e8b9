// TokenClient: the calls credgate makes to a provider's token endpoint: the authorization code
// grant (RFC 6749 §4.1.3), the refresh grant (RFC 6749 §6) and the client credentials grant
// (RFC 6749 §4.4).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/result.h"
#include "common/secret.h"
#include "credentials/model.h"
#include "http/client.h"

namespace credgate::credentials {

// Each request is a POST built by BuildTokenRequest (token_request.h): the provider's body
// encoding and client authentication, plus the provider's extra token or refresh parameters.
// Scopes are sent joined with the provider's separator. The response is moved into RFC 6749
// shape (token_shape.h) before ParseTokenResponse reads it, and the result gets the provider's
// default lifetime and kept values.
//
// Arguments are taken by value, so the returned awaitable owns everything it uses.
// Thread-safe when the HttpClient is. `http` and `clock` must outlive the TokenClient.
// Errors are those of HttpClient::Send and ParseTokenResponse (token_response.h).
class TokenClient {
 public:
  TokenClient(http::HttpClient& http, const Clock& clock) : http_(http), clock_(clock) {}

  // Exchanges an authorization code. `code_verifier` is the PKCE verifier (RFC 7636 §4.5); it is
  // left out when empty or when the provider does not use PKCE. `callback_parameters` is the
  // query of the sign-in callback, from which the provider's kCallback values are kept.
  boost::asio::awaitable<Result<TokenSet>> ExchangeCode(ProviderConfig provider, Secret code,
                                                        std::string redirect_uri,
                                                        Secret code_verifier,
                                                        FormFields callback_parameters = {});

  // Refreshes a token at the provider's refresh URL. The request carries `scope` only when the
  // provider's refresh_scope is kSend: the provider's scopes, or `previous_scopes` when it has
  // none. Otherwise it leaves `scope` out, which RFC 6749 §6 defines as the scopes originally
  // granted.
  // `previous_scopes` becomes the result's scope when the response has none. A response without
  // a refresh_token keeps `refresh_token` (RFC 6749 §6), and a new one replaces it. Kept values
  // missing from the response are copied from `previous_response`.
  boost::asio::awaitable<Result<TokenSet>> RefreshToken(
      ProviderConfig provider, Secret refresh_token, std::string previous_scopes,
      boost::json::object previous_response = {});

  // Requests a token for the client itself with the client credentials grant, at the provider's
  // token URL with its scopes and extra token parameters.
  boost::asio::awaitable<Result<TokenSet>> RequestClientCredentials(ProviderConfig provider);

 private:
  boost::asio::awaitable<Result<TokenSet>> Post(const ProviderConfig& provider,
                                                const std::string& url, FormFields fields,
                                                std::string_view requested_scopes,
                                                const TokenLocations& locations);

  http::HttpClient& http_;
  const Clock& clock_;
};

}  // namespace credgate::credentials
