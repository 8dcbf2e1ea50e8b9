// TokenClient: the calls credgate makes to a provider's token endpoint, the authorization code
// grant (RFC 6749 §4.1.3) and the refresh grant (RFC 6749 §6).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/result.h"
#include "common/secret.h"
#include "credentials/model.h"
#include "http/client.h"

namespace credgate::credentials {

// Each request is a POST with a form body and `Accept: application/json`. The client
// authenticates with the provider's ClientAuthMethod: client_secret_basic sends
// `Authorization: Basic base64(form-encode(id) ":" form-encode(secret))` (RFC 6749 §2.3.1), and
// client_secret_post puts client_id and client_secret in the body. A provider with no client
// secret is a public client and sends only client_id in the body.
//
// Arguments are taken by value, so the returned awaitable owns everything it uses.
// Thread-safe when the HttpClient is. `http` and `clock` must outlive the TokenClient.
// Errors are those of HttpClient::Send and ParseTokenResponse (token_response.h).
class TokenClient {
 public:
  TokenClient(http::HttpClient& http, const Clock& clock) : http_(http), clock_(clock) {}

  // Exchanges an authorization code. `code_verifier` is the PKCE verifier (RFC 7636 §4.5); an
  // empty one is left out of the request.
  boost::asio::awaitable<Result<TokenSet>> ExchangeCode(ProviderConfig provider, Secret code,
                                                        std::string redirect_uri,
                                                        Secret code_verifier);

  // Refreshes a token at the provider's refresh URL. The request leaves out `scope`, which
  // RFC 6749 §6 defines as asking for the scopes originally granted, and `previous_scopes`
  // becomes the result's scope when the response has none. A response without a refresh_token
  // keeps `refresh_token` (RFC 6749 §6), and a new one replaces it.
  boost::asio::awaitable<Result<TokenSet>> RefreshToken(ProviderConfig provider,
                                                        Secret refresh_token,
                                                        std::string previous_scopes);

 private:
  boost::asio::awaitable<Result<TokenSet>> Post(const ProviderConfig& provider,
                                                const std::string& url, FormFields fields,
                                                std::string_view requested_scopes);

  http::HttpClient& http_;
  const Clock& clock_;
};

}  // namespace credgate::credentials
