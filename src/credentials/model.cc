#include "credentials/model.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>

namespace credgate::credentials {

namespace {

Error InvalidField(std::string_view field, std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::string(field) + ": " + message);
}

bool IsScopeTokenChar(unsigned char c) {
  // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
  return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

Result<std::string> StringMember(const boost::json::object& object, std::string_view name,
                                 bool required) {
  const boost::json::value* value = object.if_contains(name);
  if (value == nullptr || value->is_null()) {
    if (!required) return std::string();
    return InvalidField(name, "missing from the stored token set; sign in again");
  }
  if (!value->is_string()) {
    return InvalidField(name, "must be a string in the stored token set; sign in again");
  }
  return std::string(value->get_string());
}

Result<std::optional<TimePoint>> TimeMember(const boost::json::object& object,
                                            std::string_view name) {
  const boost::json::value* value = object.if_contains(name);
  if (value == nullptr || value->is_null()) return std::optional<TimePoint>();
  if (!value->is_int64()) {
    return InvalidField(name, "must be an integer of Unix seconds in the stored token set");
  }
  return std::optional<TimePoint>(FromUnixSeconds(value->get_int64()));
}

}  // namespace

bool IsLoopbackHost(const boost::urls::url_view& url) {
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
      return url.host_ipv4_address().to_bytes()[0] == 127;
    case boost::urls::host_type::ipv6:
      return url.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name: {
      std::string name = url.host_name();
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return name == "localhost";
    }
    default:
      return false;
  }
}

Secret SerializeTokenSet(const TokenSet& tokens) {
  boost::json::object object;
  object["access_token"] = tokens.access_token.Expose();
  if (!tokens.refresh_token.empty()) object["refresh_token"] = tokens.refresh_token.Expose();
  if (tokens.expires_at) object["expires_at"] = ToUnixSeconds(*tokens.expires_at);
  object["obtained_at"] = ToUnixSeconds(tokens.obtained_at);
  object["token_type"] = tokens.token_type;
  object["scope"] = tokens.scope;
  object["response"] = tokens.response;
  Secret serialized(boost::json::serialize(object));
  // NOTE: boost::json has no hook to cleanse its buffers, so the object's plaintext copies of
  // the tokens stay in freed heap memory until it is reused.
  return serialized;
}

Result<TokenSet> ParseTokenSet(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "stored token set is not a JSON object; sign in again to replace it");
  }
  const boost::json::object& object = value.get_object();

  TokenSet tokens;
  auto access_token = StringMember(object, "access_token", true);
  if (!access_token) return access_token.error();
  tokens.access_token = Secret(std::move(*access_token));
  auto refresh_token = StringMember(object, "refresh_token", false);
  if (!refresh_token) return refresh_token.error();
  tokens.refresh_token = Secret(std::move(*refresh_token));

  auto expires_at = TimeMember(object, "expires_at");
  if (!expires_at) return expires_at.error();
  tokens.expires_at = *expires_at;
  auto obtained_at = TimeMember(object, "obtained_at");
  if (!obtained_at) return obtained_at.error();
  tokens.obtained_at = obtained_at->value_or(TimePoint());

  auto token_type = StringMember(object, "token_type", false);
  if (!token_type) return token_type.error();
  tokens.token_type = token_type->empty() ? "Bearer" : std::move(*token_type);
  auto scope = StringMember(object, "scope", false);
  if (!scope) return scope.error();
  tokens.scope = std::move(*scope);

  if (const boost::json::value* response = object.if_contains("response")) {
    if (!response->is_object()) {
      return InvalidField("response", "must be a JSON object in the stored token set");
    }
    tokens.response = response->get_object();
  }
  return tokens;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 80) return false;
  if (!std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

Status ValidateEndpointUrl(std::string_view field, std::string_view url) {
  if (url.empty()) return InvalidField(field, "is missing; set an absolute https:// URL");
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return InvalidField(field, "'" + std::string(url) +
                                   "' is not a valid absolute URL; set an absolute https:// URL");
  }
  const boost::urls::url_view& view = *parsed;
  if (!view.has_authority() || view.encoded_host().empty()) {
    return InvalidField(field, "'" + std::string(url) + "' has no host; set an https:// URL");
  }
  if (view.has_userinfo()) {
    return InvalidField(field, "the URL for host '" + std::string(view.encoded_host()) +
                                   "' contains user information; remove the 'user@' part");
  }
  if (view.has_fragment()) {
    return InvalidField(field, "'" + std::string(url) +
                                   "' has a fragment, which RFC 6749 §3.1 forbids; remove '#...'");
  }
  const bool https = view.scheme_id() == boost::urls::scheme::https;
  const bool loopback_http = view.scheme_id() == boost::urls::scheme::http && IsLoopbackHost(view);
  if (!https && !loopback_http) {
    return InvalidField(field, "'" + std::string(url) +
                                   "' must use https (http is accepted only for loopback hosts)");
  }
  return OkStatus();
}

Status ValidateScopes(std::string_view field, std::string_view scopes) {
  for (unsigned char c : scopes) {
    if (c != ' ' && !IsScopeTokenChar(c)) {
      return InvalidField(field, "'" + std::string(scopes) +
                                     "' contains a character that RFC 6749 §3.3 does not allow "
                                     "in a scope; separate scopes with single spaces and remove "
                                     "quotes, backslashes and control characters");
    }
  }
  return OkStatus();
}

Status ValidateProviderConfig(const ProviderConfig& config) {
  if (!IsValidName(config.id)) {
    return InvalidField("id", "'" + config.id +
                                  "' is invalid; use 1 to 80 letters, digits, '.', '_' or '-', "
                                  "starting with a letter or digit");
  }
  if (config.display_name.size() > 256) {
    return InvalidField("displayName", "is longer than 256 characters; shorten it");
  }
  if (!IsValidName(config.identity_provider)) {
    return InvalidField("identityProvider", "'" + config.identity_provider +
                                                "' is not an identity provider id; see GET "
                                                "/identityProviders for the ids");
  }
  if (config.client_id.empty()) {
    return InvalidField("clientId",
                        "is missing; copy the client id from the provider's app "
                        "registration");
  }
  if (config.client_secret.empty() &&
      (config.client_secret_required || config.grant == GrantKind::kClientCredentials)) {
    return InvalidField("clientSecret",
                        "is missing; set the client secret, or use identityProvider "
                        "'oauth2pkce' for a public client");
  }
  CREDGATE_RETURN_IF_ERROR(ValidateScopes("scopes", config.scopes));
  if (config.grant == GrantKind::kAuthorizationCode) {
    CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl("authorizationUrl", config.authorization_url));
  }
  CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl("tokenUrl", config.token_url));
  if (!config.refresh_url.empty()) {
    CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl("refreshUrl", config.refresh_url));
  }
  if (!config.issuer.empty()) {
    // RFC 8414 §2: an https URL without query or fragment.
    CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl("issuer", config.issuer));
    if (config.issuer.find('?') != std::string::npos) {
      return InvalidField("issuer", "'" + config.issuer +
                                        "' has a query; copy the issuer value from the "
                                        "provider's discovery document");
    }
  }
  if (config.require_iss_parameter && config.issuer.empty()) {
    return InvalidField("authorizationResponseIssParameterSupported",
                        "is true but the issuer is missing; set the issuer that the provider's "
                        "discovery document names");
  }
  return OkStatus();
}

}  // namespace credgate::credentials
