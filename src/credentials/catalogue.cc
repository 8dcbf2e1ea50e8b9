#include "credentials/catalogue.h"

#include <boost/json.hpp>

namespace credgate::credentials {

namespace json = boost::json;

namespace {

std::string_view ClientAuthName(ClientAuthMethod method) {
  return method == ClientAuthMethod::kClientSecretPost ? "client_secret_post"
                                                       : "client_secret_basic";
}

std::string_view RotationName(RefreshTokenRotation rotation) {
  switch (rotation) {
    case RefreshTokenRotation::kNever:
      return "never";
    case RefreshTokenRotation::kAlways:
      return "always";
    case RefreshTokenRotation::kSometimes:
      break;
  }
  return "sometimes";
}

std::string_view SourceName(KeptValue::Source source) {
  switch (source) {
    case KeptValue::Source::kCallback:
      return "callback";
    case KeptValue::Source::kIdToken:
      return "idToken";
    case KeptValue::Source::kTokenResponse:
      break;
  }
  return "tokenResponse";
}

json::value PointerOrNull(const std::string& pointer) {
  if (pointer.empty()) return nullptr;
  return json::value(pointer);
}

json::object RenderLocations(const TokenLocations& locations) {
  json::object out;
  out["accessToken"] = locations.access_token;
  out["refreshToken"] = PointerOrNull(locations.refresh_token);
  out["expiresIn"] = PointerOrNull(locations.expires_in);
  out["scope"] = PointerOrNull(locations.scope);
  out["tokenType"] = PointerOrNull(locations.token_type);
  return out;
}

json::object RenderTemplates(const std::vector<ParameterTemplate>& templates) {
  json::object out;
  for (const auto& [name, value] : templates) out[name] = value;
  return out;
}

json::object RenderGrant(const GrantSpec& grant, GrantKind kind) {
  json::array parameters;
  for (const ParameterSpec& parameter : grant.parameters) {
    json::object p;
    p["name"] = parameter.name;
    p["type"] = ParameterTypeName(parameter.type);
    p["required"] = parameter.required;
    p["default"] = parameter.default_value ? json::value(*parameter.default_value) : nullptr;
    p["secret"] = parameter.secret;
    if (!parameter.description.empty()) p["description"] = parameter.description;
    parameters.push_back(std::move(p));
  }
  json::object out;
  out["parameters"] = std::move(parameters);
  if (kind == GrantKind::kAuthorizationCode) {
    out["authorizationUrl"] = grant.authorization_url;
  } else {
    json::array names;
    for (const auto& name : grant.connection_parameters) names.emplace_back(name);
    out["connectionParameters"] = std::move(names);
  }
  out["tokenUrl"] = grant.token_url;
  if (kind == GrantKind::kAuthorizationCode) {
    out["refreshUrl"] = grant.refresh_url.empty() ? json::value(nullptr)
                                                  : json::value(grant.refresh_url);
    out["pkce"] = grant.pkce;
    out["issuer"] = grant.issuer.empty() ? json::value(nullptr) : json::value(grant.issuer);
    if (grant.iss_parameter_supported == "true" || grant.iss_parameter_supported == "false") {
      out["authorizationResponseIssParameterSupported"] = grant.iss_parameter_supported == "true";
    } else {
      out["authorizationResponseIssParameterSupported"] = grant.iss_parameter_supported;
    }
    out["scopeParameter"] = grant.scope_parameter;
    out["authorizationParameters"] = RenderTemplates(grant.authorization_parameters);
    out["refreshParameters"] = RenderTemplates(grant.refresh_parameters);
    out["refreshScope"] = grant.refresh_scope == RefreshScope::kSend ? "required" : "optional";
  }
  out["tokenParameters"] = RenderTemplates(grant.token_parameters);
  return out;
}

json::value OptionalSeconds(const std::optional<std::chrono::seconds>& seconds) {
  if (!seconds) return nullptr;
  return json::value(static_cast<int64_t>(seconds->count()));
}

}  // namespace

std::string_view ParameterTypeName(ParameterType type) {
  switch (type) {
    case ParameterType::kString:
      return "string";
    case ParameterType::kUrl:
      return "url";
    case ParameterType::kUri:
      return "uri";
    case ParameterType::kHostname:
      return "hostname";
    case ParameterType::kLabel:
      return "label";
    case ParameterType::kScopes:
      return "scopes";
  }
  return "string";
}

const ParameterSpec* GrantSpec::FindParameter(std::string_view name) const {
  for (const ParameterSpec& parameter : parameters) {
    if (parameter.name == name) return &parameter;
  }
  return nullptr;
}

const GrantSpec* CatalogueEntry::Grant(GrantKind grant) const {
  const std::optional<GrantSpec>& spec =
      grant == GrantKind::kAuthorizationCode ? authorization_code : client_credentials;
  return spec ? &*spec : nullptr;
}

json::object RenderCatalogueEntry(const CatalogueEntry& entry) {
  json::object grants;
  if (entry.authorization_code) {
    grants["authorizationCode"] =
        RenderGrant(*entry.authorization_code, GrantKind::kAuthorizationCode);
  }
  if (entry.client_credentials) {
    grants["clientCredentials"] =
        RenderGrant(*entry.client_credentials, GrantKind::kClientCredentials);
  }

  json::object response = RenderLocations(entry.token_locations);
  response["refresh"] = RenderLocations(entry.refresh_token_locations);
  response["scopeSeparator"] = std::string(1, entry.response_scope_separator);

  json::object lifetime;
  lifetime["absoluteSeconds"] = OptionalSeconds(entry.refresh_token_absolute_lifetime);
  lifetime["idleSeconds"] = OptionalSeconds(entry.refresh_token_idle_lifetime);
  json::object tokens;
  tokens["accessTokensExpire"] = entry.access_tokens_expire;
  tokens["defaultAccessTokenLifetimeSeconds"] =
      OptionalSeconds(entry.default_access_token_lifetime);
  tokens["refreshTokenRotation"] = RotationName(entry.refresh_token_rotation);
  tokens["refreshTokenLifetime"] = std::move(lifetime);

  json::array keep;
  for (const KeptValue& kept : entry.kept_values) {
    json::object k;
    k["name"] = kept.name;
    k["from"] = SourceName(kept.source);
    const std::string_view key_member = kept.source == KeptValue::Source::kCallback ? "parameter"
                                        : kept.source == KeptValue::Source::kIdToken ? "claim"
                                                                                     : "path";
    k[key_member] = kept.key;
    keep.push_back(std::move(k));
  }

  json::object out;
  out["id"] = entry.id;
  out["displayName"] = entry.display_name;
  out["documentation"] = entry.documentation;
  if (!entry.notes.empty()) out["notes"] = entry.notes;
  out["clientAuthentication"] = ClientAuthName(entry.client_auth_method);
  out["tokenRequestEncoding"] =
      entry.token_request_encoding == TokenRequestEncoding::kJson ? "json" : "form";
  out["scopeSeparator"] = std::string(1, entry.scope_separator);
  out["grantTypes"] = std::move(grants);
  out["tokenResponse"] = std::move(response);
  out["tokens"] = std::move(tokens);
  out["keep"] = std::move(keep);
  return out;
}

Result<Catalogue> Catalogue::Load(
    std::span<const std::pair<std::string_view, std::string_view>> files) {
  Catalogue catalogue;
  for (const auto& [name, text] : files) {
    auto entry = ParseCatalogueEntry(name, text);
    if (!entry.ok()) return entry.error();
    std::string id = entry->id;
    if (!catalogue.entries_.emplace(id, std::move(*entry)).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(name) + ": id: \"" + id + "\" is used by another entry");
    }
  }
  return catalogue;
}

const CatalogueEntry* Catalogue::Find(std::string_view id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

const Result<Catalogue>& LoadBuiltinCatalogue() {
  static const Result<Catalogue> catalogue = Catalogue::Load(EmbeddedCatalogueFiles());
  return catalogue;
}

const Catalogue& BuiltinCatalogue() {
  static const Catalogue empty;
  const Result<Catalogue>& loaded = LoadBuiltinCatalogue();
  return loaded.ok() ? *loaded : empty;
}

}  // namespace credgate::credentials
