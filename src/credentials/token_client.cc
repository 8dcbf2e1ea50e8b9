#include "credentials/token_client.h"

#include <openssl/crypto.h>

#include "credentials/token_response.h"

namespace credgate::credentials {

namespace {

void Cleanse(std::string& text) {
  if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
}

}  // namespace

boost::asio::awaitable<Result<TokenSet>> TokenClient::ExchangeCode(ProviderConfig provider,
                                                                   Secret code,
                                                                   std::string redirect_uri,
                                                                   Secret code_verifier) {
  FormFields fields = {
      {"grant_type", "authorization_code"},
      {"code", std::string(code.Expose())},
      {"redirect_uri", std::move(redirect_uri)},
  };
  if (!code_verifier.empty()) fields.emplace_back("code_verifier", code_verifier.Expose());
  co_return co_await Post(provider, provider.token_url, std::move(fields), provider.scopes);
}

boost::asio::awaitable<Result<TokenSet>> TokenClient::RefreshToken(ProviderConfig provider,
                                                                   Secret refresh_token,
                                                                   std::string previous_scopes) {
  FormFields fields = {
      {"grant_type", "refresh_token"},
      {"refresh_token", std::string(refresh_token.Expose())},
  };
  Result<TokenSet> result =
      co_await Post(provider, provider.EffectiveRefreshUrl(), std::move(fields), previous_scopes);
  if (result.ok() && result->refresh_token.empty()) result->refresh_token = refresh_token;
  co_return result;
}

boost::asio::awaitable<Result<TokenSet>> TokenClient::Post(const ProviderConfig& provider,
                                                           const std::string& url,
                                                           FormFields fields,
                                                           std::string_view requested_scopes) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
  };

  if (provider.client_secret.empty()) {
    // A public client identifies itself in the body (RFC 6749 §3.2.1).
    fields.emplace_back("client_id", provider.client_id);
  } else if (provider.client_auth_method == ClientAuthMethod::kClientSecretPost) {
    fields.emplace_back("client_id", provider.client_id);
    fields.emplace_back("client_secret", provider.client_secret.Expose());
  } else {
    // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined with ':' and
    // base64-encoded, so a ':' or '+' inside either survives the round trip.
    std::string credentials = FormEncodeComponent(provider.client_id) + ":" +
                              FormEncodeComponent(provider.client_secret.Expose());
    request.headers.emplace_back("Authorization", "Basic " + Base64Encode(credentials));
    Cleanse(credentials);
  }
  request.body = FormEncode(fields);
  for (auto& [name, value] : fields) Cleanse(value);

  Result<http::ClientResponse> response = co_await http_.Send(std::move(request));
  if (!response.ok()) {
    Error error = std::move(response).take_error();
    error.message = "token request to provider '" + provider.id + "' failed: " + error.message;
    co_return error;
  }
  co_return ParseTokenResponse(*response, requested_scopes, clock_.Now(), provider.id);
}

}  // namespace credgate::credentials
