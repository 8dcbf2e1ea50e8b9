#include "credentials/token_client.h"

#include "credentials/provider_resolution.h"
#include "credentials/token_request.h"
#include "credentials/token_response.h"
#include "credentials/token_shape.h"

namespace credgate::credentials {

namespace {

void AppendFields(FormFields& fields, const FormFields& extra) {
  fields.insert(fields.end(), extra.begin(), extra.end());
}

}  // namespace

boost::asio::awaitable<Result<TokenSet>> TokenClient::ExchangeCode(
    ProviderConfig provider, Secret code, std::string redirect_uri, Secret code_verifier,
    FormFields callback_parameters) {
  FormFields fields = {
      {"grant_type", "authorization_code"},
      {"code", std::string(code.Expose())},
      {"redirect_uri", std::move(redirect_uri)},
  };
  if (provider.use_pkce && !code_verifier.empty()) {
    fields.emplace_back("code_verifier", code_verifier.Expose());
  }
  AppendFields(fields, provider.token_parameters);
  Result<TokenSet> result =
      co_await Post(provider, provider.token_url, std::move(fields), provider.scopes,
                    provider.token_locations);
  if (result.ok()) KeepCallbackValues(*result, provider, callback_parameters);
  co_return result;
}

boost::asio::awaitable<Result<TokenSet>> TokenClient::RefreshToken(
    ProviderConfig provider, Secret refresh_token, std::string previous_scopes,
    boost::json::object previous_response) {
  FormFields fields = {
      {"grant_type", "refresh_token"},
      {"refresh_token", std::string(refresh_token.Expose())},
  };
  const std::string& scopes = provider.scopes.empty() ? previous_scopes : provider.scopes;
  if (provider.refresh_scope == RefreshScope::kSend && !scopes.empty()) {
    fields.emplace_back("scope", JoinScopes(scopes, provider.scope_separator));
  }
  AppendFields(fields, provider.refresh_parameters);
  Result<TokenSet> result =
      co_await Post(provider, provider.EffectiveRefreshUrl(), std::move(fields), previous_scopes,
                    provider.refresh_token_locations);
  if (result.ok()) {
    if (result->refresh_token.empty()) result->refresh_token = refresh_token;
    CarryKeptValues(*result, provider, previous_response);
  }
  co_return result;
}

boost::asio::awaitable<Result<TokenSet>> TokenClient::RequestClientCredentials(
    ProviderConfig provider) {
  FormFields fields = {{"grant_type", "client_credentials"}};
  if (!provider.scopes.empty()) {
    fields.emplace_back("scope", JoinScopes(provider.scopes, provider.scope_separator));
  }
  AppendFields(fields, provider.token_parameters);
  co_return co_await Post(provider, provider.token_url, std::move(fields), provider.scopes,
                          provider.token_locations);
}

boost::asio::awaitable<Result<TokenSet>> TokenClient::Post(const ProviderConfig& provider,
                                                           const std::string& url,
                                                           FormFields fields,
                                                           std::string_view requested_scopes,
                                                           const TokenLocations& locations) {
  http::ClientRequest request = BuildTokenRequest(provider, url, std::move(fields));
  Result<http::ClientResponse> response = co_await http_.Send(std::move(request));
  if (!response.ok()) {
    Error error = std::move(response).take_error();
    error.message = "token request to provider '" + provider.id + "' failed: " + error.message;
    co_return error;
  }
  ShapedTokenResponse shaped = ShapeTokenResponse(std::move(*response), provider, locations);
  Result<TokenSet> tokens =
      ParseTokenResponse(shaped.response, requested_scopes, clock_.Now(), provider.id);
  if (tokens.ok()) CompleteTokenSet(*tokens, provider, std::move(shaped.kept));
  co_return tokens;
}

}  // namespace credgate::credentials
