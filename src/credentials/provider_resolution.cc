#include "credentials/provider_resolution.h"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>

#include "common/encoding.h"
#include "credentials/url_template.h"

namespace credgate::credentials {

namespace {

constexpr size_t kMaxValueLength = 2048;

Error Invalid(std::string_view field, const std::string& message) {
  return MakeError(ErrorCode::kInvalidArgument, std::string(field) + ": " + message);
}

bool IsDnsLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

bool IsHostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  while (true) {
    const size_t dot = name.find('.');
    if (!IsDnsLabel(name.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
  }
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

// Returns the placeholder's text in a URL. URLs, host names and labels are inserted as written,
// a URL without its trailing '/' when the template continues with '/'. Anything else is
// percent-encoded, so that a value cannot add a path segment, a query or a host.
std::string UrlText(const ParameterSpec& parameter, std::string_view value, bool slash_follows) {
  switch (parameter.type) {
    case ParameterType::kUrl:
      if (slash_follows) {
        while (!value.empty() && value.back() == '/') value.remove_suffix(1);
      }
      return std::string(value);
    case ParameterType::kHostname:
    case ParameterType::kLabel:
      return std::string(value);
    default:
      return PercentEncode(value);
  }
}

// Expands `text`, a URL template when `url` is true and a parameter value otherwise. Returns
// nullopt when a placeholder's parameter has no value.
Result<std::optional<std::string>> Expand(const GrantSpec& grant, const ParameterValues& values,
                                          std::string_view text, bool url) {
  auto pieces = ParseTemplate(text);
  if (!pieces.ok()) return pieces.error();
  std::string out;
  for (size_t i = 0; i < pieces->size(); ++i) {
    const TemplatePiece& piece = (*pieces)[i];
    if (!piece.placeholder) {
      out += piece.text;
      continue;
    }
    const ParameterSpec* parameter = grant.FindParameter(piece.text);
    if (parameter == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "placeholder {" + piece.text + "} names no parameter");
    }
    std::string_view value = piece.text == kClientSecretParameter
                                 ? std::string_view()
                                 : values.Get(piece.text);
    if (value.empty()) return std::optional<std::string>();
    const bool slash_follows = i + 1 < pieces->size() && !(*pieces)[i + 1].placeholder &&
                               (*pieces)[i + 1].text.starts_with('/');
    out += url ? UrlText(*parameter, value, slash_follows) : std::string(value);
  }
  return std::optional<std::string>(std::move(out));
}

Result<FormFields> ExpandParameters(const GrantSpec& grant, const ParameterValues& values,
                                    const std::vector<ParameterTemplate>& templates,
                                    std::string_view what) {
  FormFields fields;
  for (const auto& [name, text] : templates) {
    auto value = Expand(grant, values, text, false);
    if (!value.ok()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(what) + " '" + name + "': " + value.error().message);
    }
    if (value->has_value()) fields.emplace_back(name, std::move(**value));
  }
  return fields;
}

// Expands a URL template whose placeholders must all have values.
Result<std::string> ExpandUrl(const GrantSpec& grant, const ParameterValues& values,
                              std::string_view text, std::string_view field) {
  auto url = Expand(grant, values, text, true);
  if (!url.ok()) return Invalid(field, url.error().message);
  if (!url->has_value()) {
    std::string names;
    auto pieces = ParseTemplate(text);
    if (pieces.ok()) {
      for (const auto& name : PlaceholderNames(*pieces)) names += " {" + name + "}";
    }
    return Invalid(field, "the template '" + std::string(text) +
                              "' needs a value for each of its parameters (" + names.substr(1) +
                              "); set them on the provider");
  }
  return std::move(**url);
}

// Sets the issuer and the iss requirement (RFC 9207) of an authorization code provider. Both
// are optional: a template whose parameters have no value leaves the issuer unknown.
Status ResolveIssuer(const GrantSpec& grant, const ParameterValues& values,
                     ProviderConfig& config) {
  if (!grant.issuer.empty()) {
    auto issuer = Expand(grant, values, grant.issuer, true);
    if (!issuer.ok()) return Invalid("issuer", issuer.error().message);
    if (issuer->has_value()) config.issuer = std::move(**issuer);
  }
  auto supported = Expand(grant, values, grant.iss_parameter_supported, false);
  if (!supported.ok()) {
    return Invalid("authorizationResponseIssParameterSupported", supported.error().message);
  }
  const std::string flag = supported->value_or("false");
  if (flag != "true" && flag != "false") {
    return Invalid("authorizationResponseIssParameterSupported",
                   "'" + flag + "' is invalid; use true or false");
  }
  config.require_iss_parameter = flag == "true";
  return OkStatus();
}

}  // namespace

std::string_view ParameterValues::Get(std::string_view name) const {
  auto it = values.find(name);
  return it == values.end() ? std::string_view() : std::string_view(it->second);
}

Status ValidateParameterValue(const ParameterSpec& parameter, std::string_view value,
                              std::string_view field) {
  if (value.size() > kMaxValueLength) {
    return Invalid(field, "is longer than " + std::to_string(kMaxValueLength) + " characters");
  }
  if (HasControlCharacter(value)) {
    return Invalid(field, "contains a control character; remove line breaks and tabs");
  }
  switch (parameter.type) {
    case ParameterType::kString:
      return OkStatus();
    case ParameterType::kUrl:
      return ValidateEndpointUrl(field, value);
    case ParameterType::kUri: {
      auto parsed = boost::urls::parse_absolute_uri(value);
      if (!parsed || value.find(' ') != std::string_view::npos) {
        return Invalid(field, "'" + std::string(value) +
                                  "' is not an absolute URI; use a value such as "
                                  "https://graph.microsoft.com or api://<application id>");
      }
      return OkStatus();
    }
    case ParameterType::kHostname:
      if (!IsHostname(value)) {
        return Invalid(field, "'" + std::string(value) +
                                  "' is not a host name; use a DNS name such as "
                                  "example.okta.com, without scheme, port or path");
      }
      return OkStatus();
    case ParameterType::kLabel:
      if (!IsDnsLabel(value)) {
        return Invalid(field, "'" + std::string(value) +
                                  "' is not a single DNS label; use letters, digits and '-', "
                                  "without dots");
      }
      return OkStatus();
    case ParameterType::kScopes:
      return ValidateScopes(field, value);
  }
  return OkStatus();
}

Result<ParameterValues> ApplyParameterSpecs(const GrantSpec& grant, ParameterValues given,
                                            bool connection_may_supply,
                                            std::string_view field_prefix) {
  for (const auto& [name, value] : given.values) {
    if (grant.FindParameter(name) == nullptr || name == kClientSecretParameter) {
      std::string known;
      for (const auto& parameter : grant.parameters) known += ", " + parameter.name;
      return Invalid(std::string(field_prefix) + name,
                     "is not a parameter of this identity provider; use one of " +
                         known.substr(2));
    }
  }

  ParameterValues out;
  out.client_secret = std::move(given.client_secret);
  for (const ParameterSpec& parameter : grant.parameters) {
    const std::string field = std::string(field_prefix) + parameter.name;
    const bool connection_supplied =
        connection_may_supply &&
        std::find(grant.connection_parameters.begin(), grant.connection_parameters.end(),
                  parameter.name) != grant.connection_parameters.end();
    // A PUT without the secret keeps the stored one, so ValidateProviderConfig checks it once
    // the stored secret is known.
    if (parameter.secret) continue;
    std::string value(given.Get(parameter.name));
    if (value.empty() && parameter.default_value) value = *parameter.default_value;
    if (value.empty()) {
      if (parameter.required && !connection_supplied) {
        std::string message = "'" + field + "' is required";
        if (!parameter.description.empty()) message += ": set " + parameter.description;
        return MakeError(ErrorCode::kInvalidArgument, std::move(message));
      }
      if (!parameter.default_value) continue;
    } else {
      CREDGATE_RETURN_IF_ERROR(ValidateParameterValue(parameter, value, field));
    }
    out.values[parameter.name] = std::move(value);
  }
  return out;
}

Result<ParameterValues> MergeConnectionParameters(const GrantSpec& grant,
                                                  const ParameterValues& provider,
                                                  const ParameterValues& connection,
                                                  std::string_view field_prefix) {
  auto allowed = [&](std::string_view name) {
    return std::find(grant.connection_parameters.begin(), grant.connection_parameters.end(),
                     name) != grant.connection_parameters.end();
  };
  ParameterValues merged = provider;
  for (const auto& [name, value] : connection.values) {
    if (!allowed(name)) {
      std::string known;
      for (const auto& parameter : grant.connection_parameters) known += ", " + parameter;
      return Invalid(std::string(field_prefix) + name,
                     known.empty() ? "this provider takes no connection parameters"
                                   : "is not a connection parameter; use " + known.substr(2));
    }
    const ParameterSpec* parameter = grant.FindParameter(name);
    if (parameter != nullptr) {
      CREDGATE_RETURN_IF_ERROR(
          ValidateParameterValue(*parameter, value, std::string(field_prefix) + name));
    }
    merged.values[name] = value;
  }
  if (!connection.client_secret.empty()) {
    if (!allowed(kClientSecretParameter)) {
      return Invalid(std::string(field_prefix) + std::string(kClientSecretParameter),
                     "is not a connection parameter of this provider; set it on the provider");
    }
    merged.client_secret = connection.client_secret;
  }
  return merged;
}

Result<ProviderConfig> ResolveProviderConfig(const CatalogueEntry& entry, GrantKind grant_kind,
                                             const ParameterValues& values, std::string id,
                                             std::string display_name) {
  const GrantSpec* grant = entry.Grant(grant_kind);
  if (grant == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "identityProvider '" + entry.id + "' does not support the " +
                         (grant_kind == GrantKind::kAuthorizationCode ? "authorizationCode"
                                                                      : "clientCredentials") +
                         " grant type");
  }

  ProviderConfig config;
  config.id = std::move(id);
  config.display_name = std::move(display_name);
  config.identity_provider = entry.id;
  config.grant = grant_kind;
  config.client_id = std::string(values.Get(kClientIdParameter));
  config.client_secret = values.client_secret;
  const ParameterSpec* secret = grant->FindParameter(kClientSecretParameter);
  config.client_secret_required = secret != nullptr && secret->required;
  config.scopes = NormalizeScopes(values.Get(kScopesParameter), entry.scope_separator);

  if (grant_kind == GrantKind::kAuthorizationCode) {
    auto url = ExpandUrl(*grant, values, grant->authorization_url, "authorizationUrl");
    if (!url.ok()) return url.error();
    config.authorization_url = std::move(*url);
  }
  auto token_url = ExpandUrl(*grant, values, grant->token_url, "tokenUrl");
  if (!token_url.ok()) return token_url.error();
  config.token_url = std::move(*token_url);
  if (!grant->refresh_url.empty()) {
    // A refresh URL whose parameters have no value falls back to the token URL.
    auto refresh_url = Expand(*grant, values, grant->refresh_url, true);
    if (!refresh_url.ok()) return Invalid("refreshUrl", refresh_url.error().message);
    if (refresh_url->has_value()) config.refresh_url = std::move(**refresh_url);
  }

  if (grant_kind == GrantKind::kAuthorizationCode) {
    CREDGATE_RETURN_IF_ERROR(ResolveIssuer(*grant, values, config));
  }

  auto authorization_parameters = ExpandParameters(
      *grant, values, grant->authorization_parameters, "authorization parameter");
  if (!authorization_parameters.ok()) return authorization_parameters.error();
  config.authorization_parameters = std::move(*authorization_parameters);
  auto token_parameters =
      ExpandParameters(*grant, values, grant->token_parameters, "token parameter");
  if (!token_parameters.ok()) return token_parameters.error();
  config.token_parameters = std::move(*token_parameters);
  auto refresh_parameters =
      ExpandParameters(*grant, values, grant->refresh_parameters, "refresh parameter");
  if (!refresh_parameters.ok()) return refresh_parameters.error();
  config.refresh_parameters = std::move(*refresh_parameters);

  config.use_pkce = grant->pkce;
  config.scope_parameter = grant->scope_parameter;
  config.refresh_scope = grant->refresh_scope;
  config.client_auth_method = entry.client_auth_method;
  config.token_request_encoding = entry.token_request_encoding;
  config.scope_separator = entry.scope_separator;
  config.response_scope_separator = entry.response_scope_separator;
  config.token_locations = entry.token_locations;
  config.refresh_token_locations = entry.refresh_token_locations;
  config.default_access_token_lifetime = entry.default_access_token_lifetime;
  config.refresh_token_rotation = entry.refresh_token_rotation;
  config.refresh_token_absolute_lifetime = entry.refresh_token_absolute_lifetime;
  config.refresh_token_idle_lifetime = entry.refresh_token_idle_lifetime;
  config.kept_values = entry.kept_values;

  return config;
}

Result<std::string> ExpandUrlTemplate(const GrantSpec& grant, const ParameterValues& values,
                                      std::string_view text) {
  return ExpandUrl(grant, values, text, "url");
}

std::string NormalizeScopes(std::string_view scopes, char separator) {
  std::string out;
  std::string current;
  auto flush = [&] {
    if (current.empty()) return;
    if (!out.empty()) out += ' ';
    out += current;
    current.clear();
  };
  for (char c : scopes) {
    if (std::isspace(static_cast<unsigned char>(c)) || (separator == ',' && c == ',')) {
      flush();
    } else {
      current.push_back(c);
    }
  }
  flush();
  return out;
}

std::string JoinScopes(std::string_view scopes, char separator) {
  std::string out(scopes);
  if (separator != ' ') std::replace(out.begin(), out.end(), ' ', separator);
  return out;
}

}  // namespace credgate::credentials
