#include "management/resources.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <algorithm>
#include <cctype>

namespace credgate::management {

namespace json = boost::json;

namespace {

constexpr size_t kMaxNameLength = 80;
constexpr size_t kMaxPolicyBytes = 256 * 1024;

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), "ValidationError");
}

// Returns properties.<key> when it is a string, "" when absent, or an error naming the field.
Result<std::string> OptionalString(const json::object& object, std::string_view key,
                                   std::string_view field) {
  auto it = object.find(key);
  if (it == object.end() || it->value().is_null()) return std::string();
  if (!it->value().is_string()) return Invalid("'" + std::string(field) + "' must be a string");
  return std::string(it->value().get_string());
}

Result<std::string> RequiredString(const json::object& object, std::string_view key,
                                   std::string_view field) {
  auto value = OptionalString(object, key, field);
  if (!value.ok()) return value;
  if (value->empty()) return Invalid("'" + std::string(field) + "' is required");
  return value;
}

Result<std::vector<std::string>> OptionalStringList(const json::object& object,
                                                    std::string_view key, std::string_view field) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) {
    return Invalid("'" + std::string(field) + "' must be a list of strings");
  }
  for (const auto& item : it->value().get_array()) {
    if (!item.is_string() || item.get_string().empty()) {
      return Invalid("'" + std::string(field) + "' must contain only non-empty strings");
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

Result<const json::object*> Properties(const json::object& body) {
  auto it = body.find("properties");
  if (it == body.end()) return Invalid("'properties' is required");
  if (!it->value().is_object()) return Invalid("'properties' must be an object");
  return &it->value().get_object();
}

Result<const json::object*> OptionalObject(const json::object& object, std::string_view key,
                                           std::string_view field) {
  static const json::object kEmpty;
  auto it = object.find(key);
  if (it == object.end() || it->value().is_null()) return &kEmpty;
  if (!it->value().is_object()) return Invalid("'" + std::string(field) + "' must be an object");
  return &it->value().get_object();
}

// Returns whether the URL's host is 127.0.0.0/8, ::1 or the name "localhost". A name that only
// starts with "127." or "localhost" is not a loopback host.
bool IsLoopbackHost(const boost::urls::url_view& url) {
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
      return url.host_ipv4_address().to_bytes()[0] == 127;
    case boost::urls::host_type::ipv6:
      return url.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name: {
      std::string name = url.host_name();
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      return name == "localhost";
    }
    default:
      return false;
  }
}

// Rejects a URL whose path does not start with '/' although it has an authority, which RFC 3986
// §3.3 forbids. Boost.URL 1.81 parses a host name that starts with an IPv4 address, such as
// "127.0.0.1.example.com", as that address and puts the rest of the name into the path. Without
// this check the gateway would connect to the address instead of the named host.
Status ValidateHostEndsAuthority(const boost::urls::url_view& url, std::string_view url_text,
                                 std::string_view field) {
  std::string_view path = url.encoded_path();
  if (!url.has_authority() || path.empty() || path.front() == '/') return OkStatus();
  return Invalid("invalid '" + std::string(field) + "' '" + std::string(url_text) +
                 "': its host is read as '" + std::string(url.encoded_host()) +
                 "' followed by '" + std::string(path) +
                 "'; use a host name that does not start with an IPv4 address, or the address "
                 "itself");
}

// Accepts https URLs, and http only for loopback hosts, where TLS adds nothing.
Status ValidateEndpointUrl(std::string_view url, std::string_view field) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->host().empty() || parsed->has_fragment()) {
    return Invalid("'" + std::string(field) + "' must be an absolute URL, got '" +
                   std::string(url) + "'");
  }
  CREDGATE_RETURN_IF_ERROR(ValidateHostEndsAuthority(*parsed, url, field));
  if (parsed->scheme() == "https") return OkStatus();
  if (parsed->scheme() == "http" && IsLoopbackHost(*parsed)) return OkStatus();
  return Invalid("'" + std::string(field) + "' must use https (http is accepted only for "
                 "loopback hosts), got '" + std::string(url) + "'");
}

json::object Envelope(std::string_view id, std::string_view name, std::string_view type,
                      json::object properties) {
  json::object out;
  out["id"] = id;
  out["name"] = name;
  out["type"] = type;
  out["properties"] = std::move(properties);
  return out;
}

json::array ToJsonArray(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

}  // namespace

Status ValidateResourceName(std::string_view name, std::string_view what) {
  auto valid_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  };
  if (name.empty() || name.size() > kMaxNameLength ||
      !std::isalnum(static_cast<unsigned char>(name.front())) ||
      !std::all_of(name.begin(), name.end(), valid_char)) {
    return Invalid("invalid " + std::string(what) + " name '" + std::string(name) +
                   "': use 1 to 80 letters, digits, '-', '_' or '.', starting with a letter or "
                   "digit");
  }
  return OkStatus();
}

Result<json::object> ParseJsonBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Invalid("the request body is empty: send a JSON object, for example "
                   "{\"properties\":{...}}");
  }
  json::parse_options options;
  options.max_depth = 32;
  json::stream_parser parser({}, options);
  boost::system::error_code error;
  // write() consumes the input up to the first error, so `offset` is where the error is.
  size_t offset = parser.write(body.data(), body.size(), error);
  if (!error) parser.finish(error);
  if (error) {
    return Invalid("the request body is not valid JSON at offset " + std::to_string(offset) +
                   ": " + error.message());
  }
  json::value value = parser.release();
  if (!value.is_object()) return Invalid("the request body must be a JSON object");
  return std::move(value.get_object());
}

Result<TrustedIssuerResource> ParseTrustedIssuer(std::string_view id, const json::object& body) {
  CREDGATE_RETURN_IF_ERROR(ValidateResourceName(id, "trusted issuer"));
  auto properties = Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;

  TrustedIssuerResource issuer;
  issuer.id = std::string(id);
  auto url = RequiredString(p, "issuer", "properties.issuer");
  if (!url.ok()) return url.error();
  issuer.issuer = *url;
  CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl(issuer.issuer, "properties.issuer"));
  auto audiences = OptionalStringList(p, "audiences", "properties.audiences");
  if (!audiences.ok()) return audiences.error();
  if (audiences->empty()) {
    return Invalid("'properties.audiences' needs at least one audience, the 'aud' value that "
                   "callers' tokens carry");
  }
  issuer.audiences = *audiences;
  auto jwks = OptionalString(p, "jwksUri", "properties.jwksUri");
  if (!jwks.ok()) return jwks.error();
  issuer.jwks_uri = *jwks;
  if (!issuer.jwks_uri.empty()) {
    CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl(issuer.jwks_uri, "properties.jwksUri"));
  }

  auto claims = OptionalObject(p, "claims", "properties.claims");
  if (!claims.ok()) return claims.error();
  struct ClaimField {
    const char* key;
    std::string* target;
  };
  for (auto [key, target] : {ClaimField{"objectId", &issuer.object_id_claim},
                             ClaimField{"tenantId", &issuer.tenant_id_claim},
                             ClaimField{"groups", &issuer.groups_claim},
                             ClaimField{"appId", &issuer.app_id_claim}}) {
    auto value = OptionalString(**claims, key, std::string("properties.claims.") + key);
    if (!value.ok()) return value.error();
    if (!value->empty()) *target = *value;
  }

  auto skew = p.find("clockSkewSeconds");
  if (skew != p.end() && !skew->value().is_null()) {
    if (!skew->value().is_int64() || skew->value().get_int64() < 0 ||
        skew->value().get_int64() > 600) {
      return Invalid("'properties.clockSkewSeconds' must be a whole number from 0 to 600");
    }
    issuer.clock_skew_seconds = static_cast<int>(skew->value().get_int64());
  }
  return issuer;
}

Result<ProviderResource> ParseProvider(std::string_view id, const json::object& body) {
  CREDGATE_RETURN_IF_ERROR(ValidateResourceName(id, "authorization provider"));
  auto properties = Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;

  ProviderResource provider;
  provider.id = std::string(id);
  auto display = OptionalString(p, "displayName", "properties.displayName");
  if (!display.ok()) return display.error();
  provider.display_name = display->empty() ? provider.id : *display;
  auto kind = RequiredString(p, "identityProvider", "properties.identityProvider");
  if (!kind.ok()) return kind.error();
  if (*kind != "oauth2" && *kind != "oauth2pkce") {
    return Invalid("unsupported 'properties.identityProvider' '" + *kind +
                   "': use 'oauth2' or 'oauth2pkce'");
  }
  provider.identity_provider = *kind;

  auto oauth2 = OptionalObject(p, "oauth2", "properties.oauth2");
  if (!oauth2.ok()) return oauth2.error();
  auto grant_types = OptionalObject(**oauth2, "grantTypes", "properties.oauth2.grantTypes");
  if (!grant_types.ok()) return grant_types.error();
  auto code = OptionalObject(**grant_types, "authorizationCode",
                             "properties.oauth2.grantTypes.authorizationCode");
  if (!code.ok()) return code.error();
  if ((*code)->empty()) {
    return Invalid("'properties.oauth2.grantTypes.authorizationCode' is required, with "
                   "clientId, clientSecret, scopes, authorizationUrl and tokenUrl");
  }
  const json::object& g = **code;
  const std::string prefix = "properties.oauth2.grantTypes.authorizationCode.";
  for (const auto& [key, value] : g) {
    static constexpr std::string_view kKnown[] = {"clientId",         "clientSecret", "scopes",
                                                  "authorizationUrl", "tokenUrl",     "refreshUrl"};
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return Invalid("unknown parameter '" + prefix + std::string(key) +
                     "': the oauth2 providers take clientId, clientSecret, scopes, "
                     "authorizationUrl, tokenUrl and refreshUrl");
    }
    (void)value;
  }
  auto client_id = RequiredString(g, "clientId", prefix + "clientId");
  if (!client_id.ok()) return client_id.error();
  provider.client_id = *client_id;
  auto secret = OptionalString(g, "clientSecret", prefix + "clientSecret");
  if (!secret.ok()) return secret.error();
  provider.client_secret = Secret(std::move(*secret));
  auto scopes = OptionalString(g, "scopes", prefix + "scopes");
  if (!scopes.ok()) return scopes.error();
  provider.scopes = *scopes;
  auto authorization_url = RequiredString(g, "authorizationUrl", prefix + "authorizationUrl");
  if (!authorization_url.ok()) return authorization_url.error();
  provider.authorization_url = *authorization_url;
  CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl(provider.authorization_url,
                                               prefix + "authorizationUrl"));
  auto token_url = RequiredString(g, "tokenUrl", prefix + "tokenUrl");
  if (!token_url.ok()) return token_url.error();
  provider.token_url = *token_url;
  CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl(provider.token_url, prefix + "tokenUrl"));
  auto refresh_url = OptionalString(g, "refreshUrl", prefix + "refreshUrl");
  if (!refresh_url.ok()) return refresh_url.error();
  provider.refresh_url = *refresh_url;
  if (!provider.refresh_url.empty()) {
    CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl(provider.refresh_url, prefix + "refreshUrl"));
  }
  return provider;
}

Result<ConnectionResource> ParseConnection(std::string_view provider_id, std::string_view id,
                                           const json::object& body) {
  CREDGATE_RETURN_IF_ERROR(ValidateResourceName(id, "authorization"));
  auto properties = Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;

  ConnectionResource connection;
  connection.provider_id = std::string(provider_id);
  connection.id = std::string(id);
  auto type = OptionalString(p, "authorizationType", "properties.authorizationType");
  if (!type.ok()) return type.error();
  if (!type->empty() && *type != "OAuth2") {
    return Invalid("unsupported 'properties.authorizationType' '" + *type + "': use 'OAuth2'");
  }
  auto grant = OptionalString(p, "oauth2grantType", "properties.oauth2grantType");
  if (!grant.ok()) return grant.error();
  if (grant->empty() || *grant == "AuthorizationCode") {
    connection.grant_type = GrantType::kAuthorizationCode;
  } else if (*grant == "ClientCredentials") {
    return Invalid("'properties.oauth2grantType' 'ClientCredentials' is not supported yet: use "
                   "'AuthorizationCode'");
  } else {
    return Invalid("unsupported 'properties.oauth2grantType' '" + *grant +
                   "': use 'AuthorizationCode'");
  }
  return connection;
}

Result<AccessPolicyResource> ParseAccessPolicy(std::string_view provider_id,
                                               std::string_view connection_id, std::string_view id,
                                               const json::object& body) {
  CREDGATE_RETURN_IF_ERROR(ValidateResourceName(id, "access policy"));
  auto properties = Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;

  AccessPolicyResource policy;
  policy.provider_id = std::string(provider_id);
  policy.connection_id = std::string(connection_id);
  policy.id = std::string(id);
  auto tenant = RequiredString(p, "tenantId", "properties.tenantId");
  if (!tenant.ok()) return tenant.error();
  policy.tenant_id = *tenant;
  auto object = RequiredString(p, "objectId", "properties.objectId");
  if (!object.ok()) return object.error();
  policy.object_id = *object;
  auto apps = OptionalStringList(p, "appIds", "properties.appIds");
  if (!apps.ok()) return apps.error();
  policy.app_ids = *apps;
  return policy;
}

Result<ApiResource> ParseApi(std::string_view id, const json::object& body) {
  CREDGATE_RETURN_IF_ERROR(ValidateResourceName(id, "API"));
  auto properties = Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;

  ApiResource api;
  api.id = std::string(id);
  auto display = OptionalString(p, "displayName", "properties.displayName");
  if (!display.ok()) return display.error();
  api.display_name = display->empty() ? api.id : *display;
  auto path = OptionalString(p, "path", "properties.path");
  if (!path.ok()) return path.error();
  std::string_view trimmed = *path;
  while (!trimmed.empty() && trimmed.front() == '/') trimmed.remove_prefix(1);
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.remove_suffix(1);
  for (char c : trimmed) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '/' || c == '~')) {
      return Invalid("invalid 'properties.path' '" + *path +
                     "': use letters, digits, '-', '_', '.', '~' and '/'");
    }
  }
  if (trimmed.find("//") != std::string_view::npos || trimmed.starts_with(".credgate")) {
    return Invalid("invalid 'properties.path' '" + *path +
                   "': empty segments and the reserved prefix '.credgate' are not allowed");
  }
  api.path = std::string(trimmed);
  auto service = RequiredString(p, "serviceUrl", "properties.serviceUrl");
  if (!service.ok()) return service.error();
  auto parsed = boost::urls::parse_absolute_uri(*service);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->host().empty() || !parsed->query().empty() || parsed->has_fragment()) {
    return Invalid("invalid 'properties.serviceUrl' '" + *service +
                   "': use an absolute http or https URL without query or fragment");
  }
  CREDGATE_RETURN_IF_ERROR(ValidateHostEndsAuthority(*parsed, *service, "properties.serviceUrl"));
  api.service_url = *service;
  while (!api.service_url.empty() && api.service_url.back() == '/') api.service_url.pop_back();
  return api;
}

Result<OperationResource> ParseOperation(std::string_view api_id, std::string_view id,
                                         const json::object& body) {
  CREDGATE_RETURN_IF_ERROR(ValidateResourceName(id, "operation"));
  auto properties = Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;

  OperationResource operation;
  operation.api_id = std::string(api_id);
  operation.id = std::string(id);
  auto display = OptionalString(p, "displayName", "properties.displayName");
  if (!display.ok()) return display.error();
  operation.display_name = display->empty() ? operation.id : *display;
  auto method = RequiredString(p, "method", "properties.method");
  if (!method.ok()) return method.error();
  operation.method = *method;
  std::transform(operation.method.begin(), operation.method.end(), operation.method.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  static constexpr std::string_view kMethods[] = {"GET",    "POST",    "PUT",   "PATCH", "DELETE",
                                                  "HEAD",   "OPTIONS", "TRACE", "*"};
  if (std::find(std::begin(kMethods), std::end(kMethods), operation.method) ==
      std::end(kMethods)) {
    return Invalid("invalid 'properties.method' '" + *method +
                   "': use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, TRACE or *");
  }
  auto url_template = RequiredString(p, "urlTemplate", "properties.urlTemplate");
  if (!url_template.ok()) return url_template.error();
  if (url_template->front() != '/') {
    return Invalid("invalid 'properties.urlTemplate' '" + *url_template +
                   "': it must start with '/'");
  }
  operation.url_template = *url_template;
  return operation;
}

Result<PolicyResource> ParsePolicy(const json::object& body) {
  auto properties = Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;
  auto format = OptionalString(p, "format", "properties.format");
  if (!format.ok()) return format.error();
  if (!format->empty() && *format != "rawxml" && *format != "xml") {
    return Invalid("unsupported 'properties.format' '" + *format + "': use 'rawxml' or 'xml'");
  }
  auto value = RequiredString(p, "value", "properties.value");
  if (!value.ok()) return value.error();
  if (value->size() > kMaxPolicyBytes) {
    return Invalid("'properties.value' is larger than 256 KiB");
  }
  return PolicyResource{*value};
}

json::object RenderTrustedIssuer(const TrustedIssuerResource& issuer) {
  json::object claims;
  claims["objectId"] = issuer.object_id_claim;
  claims["tenantId"] = issuer.tenant_id_claim;
  claims["groups"] = issuer.groups_claim;
  claims["appId"] = issuer.app_id_claim;
  json::object p;
  p["issuer"] = issuer.issuer;
  p["audiences"] = ToJsonArray(issuer.audiences);
  if (!issuer.jwks_uri.empty()) p["jwksUri"] = issuer.jwks_uri;
  p["claims"] = std::move(claims);
  p["clockSkewSeconds"] = issuer.clock_skew_seconds;
  return Envelope("/trustedIssuers/" + issuer.id, issuer.id, "credgate/trustedIssuers",
                  std::move(p));
}

json::object RenderProvider(const ProviderResource& provider, std::string_view redirect_url) {
  json::object code;
  code["clientId"] = provider.client_id;
  code["scopes"] = provider.scopes;
  code["authorizationUrl"] = provider.authorization_url;
  code["tokenUrl"] = provider.token_url;
  if (!provider.refresh_url.empty()) code["refreshUrl"] = provider.refresh_url;
  json::object grant_types;
  grant_types["authorizationCode"] = std::move(code);
  json::object oauth2;
  oauth2["redirectUrl"] = redirect_url;
  oauth2["grantTypes"] = std::move(grant_types);
  json::object p;
  p["displayName"] = provider.display_name;
  p["identityProvider"] = provider.identity_provider;
  p["oauth2"] = std::move(oauth2);
  return Envelope("/authorizationProviders/" + provider.id, provider.id,
                  "Microsoft.ApiManagement/service/authorizationProviders", std::move(p));
}

json::object RenderConnection(const ConnectionResource& connection,
                              const ConnectionState& state) {
  json::object p;
  p["authorizationType"] = "OAuth2";
  p["oauth2grantType"] = connection.grant_type == GrantType::kAuthorizationCode
                             ? "AuthorizationCode"
                             : "ClientCredentials";
  p["status"] = state.connected ? "Connected" : "Error";
  if (!state.connected) {
    json::object error;
    error["code"] = state.error_code;
    error["message"] = state.error_message;
    p["error"] = std::move(error);
  }
  return Envelope(
      "/authorizationProviders/" + connection.provider_id + "/authorizations/" + connection.id,
      connection.id, "Microsoft.ApiManagement/service/authorizationProviders/authorizations",
      std::move(p));
}

json::object RenderAccessPolicy(const AccessPolicyResource& policy) {
  json::object p;
  p["tenantId"] = policy.tenant_id;
  p["objectId"] = policy.object_id;
  p["appIds"] = ToJsonArray(policy.app_ids);
  return Envelope("/authorizationProviders/" + policy.provider_id + "/authorizations/" +
                      policy.connection_id + "/accessPolicies/" + policy.id,
                  policy.id,
                  "Microsoft.ApiManagement/service/authorizationProviders/authorizations/"
                  "accessPolicies",
                  std::move(p));
}

json::object RenderApi(const ApiResource& api) {
  json::object p;
  p["displayName"] = api.display_name;
  p["path"] = api.path;
  p["serviceUrl"] = api.service_url;
  return Envelope("/apis/" + api.id, api.id, "Microsoft.ApiManagement/service/apis",
                  std::move(p));
}

json::object RenderOperation(const OperationResource& operation) {
  json::object p;
  p["displayName"] = operation.display_name;
  p["method"] = operation.method;
  p["urlTemplate"] = operation.url_template;
  return Envelope("/apis/" + operation.api_id + "/operations/" + operation.id, operation.id,
                  "Microsoft.ApiManagement/service/apis/operations", std::move(p));
}

json::object RenderPolicy(std::string_view resource_path, const PolicyResource& policy) {
  json::object p;
  p["format"] = "rawxml";
  p["value"] = policy.xml;
  return Envelope(resource_path, "policy", "Microsoft.ApiManagement/service/policies",
                  std::move(p));
}

json::object StoreProvider(const ProviderResource& provider) {
  json::object out = RenderProvider(provider, "");
  return out;
}

}  // namespace credgate::management
