#include "credentials/authorization_url.h"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "common/encoding.h"
#include "credentials/provider_resolution.h"

namespace credgate::credentials {

namespace {

void SetParam(boost::urls::url& url, std::string_view name, std::string_view value) {
  // PercentEncode leaves only unreserved characters, so the encoded form is valid in a query.
  const std::string encoded = PercentEncode(value);
  url.encoded_params().set(name, boost::urls::pct_string_view(encoded));
}

}  // namespace

Result<std::string> BuildAuthorizationUrl(const ProviderConfig& provider,
                                          const AuthorizationRequest& request) {
  auto parsed = boost::urls::parse_absolute_uri(provider.authorization_url);
  if (!parsed) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "authorizationUrl of provider '" + provider.id + "' is not a valid URL: '" +
                         provider.authorization_url + "'; fix the provider's settings");
  }
  boost::urls::url url(*parsed);
  url.remove_fragment();

  SetParam(url, "response_type", "code");
  SetParam(url, "client_id", provider.client_id);
  SetParam(url, "redirect_uri", request.redirect_uri);
  const std::string& scopes = request.scopes.empty() ? provider.scopes : request.scopes;
  if (!scopes.empty()) {
    SetParam(url, provider.scope_parameter, JoinScopes(scopes, provider.scope_separator));
  }
  SetParam(url, "state", request.state);
  if (provider.use_pkce && !request.code_challenge.empty()) {
    SetParam(url, "code_challenge", request.code_challenge);
    SetParam(url, "code_challenge_method", "S256");
  }
  for (const auto& [name, value] : provider.authorization_parameters) SetParam(url, name, value);
  return std::string(url.buffer());
}

}  // namespace credgate::credentials
