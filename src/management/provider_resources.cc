// The credential provider and connection resources, and the identity provider catalogue as the
// management API shows it.
#include <boost/json.hpp>

#include "credentials/catalogue.h"
#include "management/resource_fields.h"
#include "management/resources.h"

namespace credgate::management {

namespace json = boost::json;
using namespace internal;  // NOLINT: the field helpers of resource_fields.h

namespace {

constexpr std::string_view kGrantTypesField = "properties.oauth2.grantTypes";

std::string_view GrantMember(credentials::GrantKind grant) {
  return grant == credentials::GrantKind::kAuthorizationCode ? "authorizationCode"
                                                             : "clientCredentials";
}

std::string ParameterNames(const credentials::GrantSpec& grant) {
  std::string names;
  for (const auto& parameter : grant.parameters) {
    names += names.empty() ? "" : ", ";
    names += parameter.name;
  }
  return names;
}

std::string RequiredNames(const credentials::GrantSpec& grant) {
  std::string names;
  for (const auto& parameter : grant.parameters) {
    if (!parameter.required) continue;
    names += names.empty() ? "" : ", ";
    names += parameter.name;
  }
  return names;
}

// Reads the members of a grant object as parameter values. Every member must be a parameter of
// `grant` with a string (or null) value.
Result<credentials::ParameterValues> ReadParameters(const json::object& object,
                                                    const credentials::GrantSpec& grant,
                                                    std::string_view identity_provider,
                                                    const std::string& prefix) {
  credentials::ParameterValues given;
  for (const auto& [key, value] : object) {
    if (grant.FindParameter(key) == nullptr) {
      return Invalid("unknown parameter '" + prefix + std::string(key) +
                     "': identity provider '" + std::string(identity_provider) + "' takes " +
                     ParameterNames(grant));
    }
    if (value.is_null()) continue;
    if (!value.is_string()) {
      return Invalid("'" + prefix + std::string(key) + "' must be a string");
    }
    if (key == credentials::kClientSecretParameter) {
      given.client_secret = Secret(std::string(value.get_string()));
    } else if (!value.get_string().empty()) {
      given.values[std::string(key)] = std::string(value.get_string());
    }
  }
  return given;
}

}  // namespace

std::string_view ProviderResource::Parameter(std::string_view name) const {
  auto it = parameters.find(name);
  return it == parameters.end() ? std::string_view() : std::string_view(it->second);
}

Result<const credentials::CatalogueEntry*> FindIdentityProvider(std::string_view id) {
  const credentials::Catalogue& catalogue = credentials::BuiltinCatalogue();
  if (const credentials::CatalogueEntry* entry = catalogue.Find(id)) return entry;
  std::string ids;
  for (const auto& [entry_id, entry] : catalogue.entries()) {
    ids += ids.empty() ? "" : ", ";
    ids += entry_id;
  }
  return Invalid("unsupported 'properties.identityProvider' '" + std::string(id) +
                 "': use one of " + ids + " (GET /identityProviders lists them)");
}

credentials::ParameterValues ProviderParameterValues(const ProviderResource& provider,
                                                     const Secret& client_secret) {
  credentials::ParameterValues values;
  values.values = provider.parameters;
  values.client_secret = client_secret;
  return values;
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
  auto entry = FindIdentityProvider(*kind);
  if (!entry.ok()) return entry.error();
  provider.identity_provider = *kind;

  auto oauth2 = OptionalObject(p, "oauth2", "properties.oauth2");
  if (!oauth2.ok()) return oauth2.error();
  auto grant_types = OptionalObject(**oauth2, "grantTypes", kGrantTypesField);
  if (!grant_types.ok()) return grant_types.error();
  auto code = OptionalObject(**grant_types, "authorizationCode",
                             std::string(kGrantTypesField) + ".authorizationCode");
  if (!code.ok()) return code.error();
  auto credentials = OptionalObject(**grant_types, "clientCredentials",
                                    std::string(kGrantTypesField) + ".clientCredentials");
  if (!credentials.ok()) return credentials.error();
  if (!(*code)->empty() && !(*credentials)->empty()) {
    return Invalid("'" + std::string(kGrantTypesField) +
                   "' sets both authorizationCode and clientCredentials: a provider has one "
                   "grant type, so register a second provider for the other");
  }
  if ((*code)->empty() && (*credentials)->empty()) {
    const credentials::GrantKind kind_needed = (*entry)->authorization_code
                                                   ? credentials::GrantKind::kAuthorizationCode
                                                   : credentials::GrantKind::kClientCredentials;
    return Invalid("'" + std::string(kGrantTypesField) + "." +
                   std::string(GrantMember(kind_needed)) + "' is required, with " +
                   RequiredNames(*(*entry)->Grant(kind_needed)));
  }
  provider.grant = (*code)->empty() ? credentials::GrantKind::kClientCredentials
                                    : credentials::GrantKind::kAuthorizationCode;
  const credentials::GrantSpec* grant = (*entry)->Grant(provider.grant);
  const std::string prefix =
      std::string(kGrantTypesField) + "." + std::string(GrantMember(provider.grant)) + ".";
  if (grant == nullptr) {
    return Invalid("identity provider '" + *kind + "' does not support the " +
                   std::string(GrantMember(provider.grant)) + " grant type");
  }

  auto given = ReadParameters(provider.grant == credentials::GrantKind::kAuthorizationCode
                                  ? **code
                                  : **credentials,
                              *grant, *kind, prefix);
  if (!given.ok()) return given.error();
  // URL parameters get the management API's URL check, which also catches hosts that Boost.URL
  // splits at an IPv4 prefix.
  for (const auto& parameter : grant->parameters) {
    std::string_view value = given->Get(parameter.name);
    if (parameter.type == credentials::ParameterType::kUrl && !value.empty()) {
      CREDGATE_RETURN_IF_ERROR(ValidateEndpointUrl(value, prefix + parameter.name));
    }
  }
  const bool connection_may_supply = provider.grant == credentials::GrantKind::kClientCredentials;
  auto applied =
      credentials::ApplyParameterSpecs(*grant, std::move(*given), connection_may_supply, prefix);
  if (!applied.ok()) return Invalid(applied.error().message);
  provider.parameters = std::move(applied->values);
  provider.client_secret = std::move(applied->client_secret);
  return provider;
}

json::object RenderProvider(const ProviderResource& provider, std::string_view redirect_url) {
  json::object parameters;
  auto entry = FindIdentityProvider(provider.identity_provider);
  const credentials::GrantSpec* grant = entry.ok() ? (*entry)->Grant(provider.grant) : nullptr;
  if (grant != nullptr) {
    // In the entry's order, which GET shows.
    for (const auto& parameter : grant->parameters) {
      auto it = provider.parameters.find(parameter.name);
      if (it != provider.parameters.end()) parameters[parameter.name] = it->second;
    }
  } else {
    for (const auto& [name, value] : provider.parameters) parameters[name] = value;
  }
  json::object grant_types;
  grant_types[GrantMember(provider.grant)] = std::move(parameters);
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
    connection.grant_type = GrantType::kClientCredentials;
  } else {
    return Invalid("unsupported 'properties.oauth2grantType' '" + *grant +
                   "': use 'AuthorizationCode' or 'ClientCredentials'");
  }

  auto parameters = p.find("parameters");
  if (parameters == p.end() || parameters->value().is_null()) return connection;
  if (!parameters->value().is_object()) {
    return Invalid("'properties.parameters' must be an object of strings");
  }
  if (connection.grant_type != GrantType::kClientCredentials &&
      !parameters->value().get_object().empty()) {
    return Invalid("'properties.parameters' is only for 'ClientCredentials' connections: an "
                   "'AuthorizationCode' connection takes its client from the provider");
  }
  connection.parameters_given = true;
  for (const auto& [key, value] : parameters->value().get_object()) {
    const std::string field = "properties.parameters." + std::string(key);
    if (value.is_null()) continue;
    if (!value.is_string()) return Invalid("'" + field + "' must be a string");
    if (key == credentials::kClientSecretParameter) {
      connection.parameters.Mutable().client_secret = Secret(std::string(value.get_string()));
    } else if (!value.get_string().empty()) {
      connection.parameters.Mutable().values[std::string(key)] = std::string(value.get_string());
    }
  }
  return connection;
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

json::object RenderIdentityProvider(const credentials::CatalogueEntry& entry) {
  json::object properties = credentials::RenderCatalogueEntry(entry);
  properties.erase("id");
  return Envelope("/identityProviders/" + entry.id, entry.id, "credgate/identityProviders",
                  std::move(properties));
}

}  // namespace credgate::management
