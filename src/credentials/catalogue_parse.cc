// ParseCatalogueEntry: reads one catalogue file into a CatalogueEntry and rejects anything the
// format (docs/providers.md) does not define, naming the file and the field.
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <set>

#include "credentials/catalogue.h"
#include "credentials/provider_resolution.h"
#include "credentials/url_template.h"

namespace credgate::credentials {

namespace json = boost::json;

namespace {

constexpr int64_t kMaxLifetimeSeconds = int64_t{10} * 366 * 24 * 3600;

// Reads the members of one JSON object and remembers which it read, so that Finish() can reject
// the members the format does not define. Every error is "<file>: <path>.<member>: <problem>".
class ObjectReader {
 public:
  ObjectReader(std::string_view file, std::string path, const json::object& object)
      : file_(file), path_(std::move(path)), object_(object) {}

  std::string Field(std::string_view member) const {
    return path_.empty() ? std::string(member) : path_ + "." + std::string(member);
  }

  Error Fail(std::string_view member, const std::string& message) const {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(file_) + ": " + Field(member) + ": " + message);
  }

  const json::value* Find(std::string_view member) {
    known_.insert(std::string(member));
    const json::value* value = object_.if_contains(member);
    return value == nullptr || value->is_null() ? nullptr : value;
  }

  // Returns the member as a string, nullopt when absent or null.
  Result<std::optional<std::string>> OptionalString(std::string_view member) {
    const json::value* value = Find(member);
    if (value == nullptr) return std::optional<std::string>();
    if (!value->is_string()) return Fail(member, "must be a string");
    return std::optional<std::string>(std::string(value->get_string()));
  }

  Result<std::string> RequiredString(std::string_view member) {
    auto value = OptionalString(member);
    if (!value.ok()) return value.error();
    if (!value->has_value() || (*value)->empty()) return Fail(member, "is required");
    return std::move(**value);
  }

  Result<bool> Bool(std::string_view member, bool fallback) {
    const json::value* value = Find(member);
    if (value == nullptr) return fallback;
    if (!value->is_bool()) return Fail(member, "must be true or false");
    return value->get_bool();
  }

  Result<std::optional<std::chrono::seconds>> Seconds(std::string_view member) {
    const json::value* value = Find(member);
    if (value == nullptr) return std::optional<std::chrono::seconds>();
    if (!value->is_int64() || value->get_int64() <= 0 ||
        value->get_int64() > kMaxLifetimeSeconds) {
      return Fail(member, "must be a whole number of seconds from 1 to " +
                              std::to_string(kMaxLifetimeSeconds));
    }
    return std::optional<std::chrono::seconds>(std::chrono::seconds(value->get_int64()));
  }

  // Returns the member as an object, or null when absent.
  Result<const json::object*> Object(std::string_view member) {
    const json::value* value = Find(member);
    if (value == nullptr) return static_cast<const json::object*>(nullptr);
    if (!value->is_object()) return Fail(member, "must be an object");
    return &value->get_object();
  }

  Result<const json::array*> Array(std::string_view member) {
    const json::value* value = Find(member);
    if (value == nullptr) return static_cast<const json::array*>(nullptr);
    if (!value->is_array()) return Fail(member, "must be an array");
    return &value->get_array();
  }

  // Maps a string member onto one of `choices`, or `fallback` when absent.
  template <typename T>
  Result<T> Choice(std::string_view member,
                   std::initializer_list<std::pair<std::string_view, T>> choices,
                   std::optional<T> fallback) {
    auto text = OptionalString(member);
    if (!text.ok()) return text.error();
    if (!text->has_value()) {
      if (fallback) return *fallback;
      return Fail(member, "is required");
    }
    std::string names;
    for (const auto& [name, value] : choices) {
      if (name == **text) return value;
      names += names.empty() ? "" : ", ";
      names += "\"" + std::string(name) + "\"";
    }
    return Fail(member, "\"" + **text + "\" is not one of " + names);
  }

  Status Finish() const {
    for (const auto& [key, value] : object_) {
      if (!known_.contains(std::string(key))) {
        return Fail(key, "is not a member of this object; check the spelling against "
                         "docs/providers.md");
      }
    }
    return OkStatus();
  }

  std::string_view file() const { return file_; }

 private:
  std::string_view file_;
  std::string path_;
  const json::object& object_;
  std::set<std::string> known_;
};

bool IsParameterName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::isalpha(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

bool IsRequestParameterName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

Result<ParameterType> ParseParameterType(ObjectReader& reader) {
  return reader.Choice<ParameterType>("type",
                                      {{"string", ParameterType::kString},
                                       {"url", ParameterType::kUrl},
                                       {"uri", ParameterType::kUri},
                                       {"hostname", ParameterType::kHostname},
                                       {"label", ParameterType::kLabel},
                                       {"scopes", ParameterType::kScopes}},
                                      std::nullopt);
}

Result<ParameterSpec> ParseParameter(std::string_view file, const std::string& path,
                                     const json::value& value) {
  if (!value.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(file) + ": " + path + ": must be an object");
  }
  ObjectReader reader(file, path, value.get_object());
  ParameterSpec parameter;
  auto name = reader.RequiredString("name");
  if (!name.ok()) return name.error();
  if (!IsParameterName(*name)) {
    return reader.Fail("name", "\"" + *name + "\" must be letters and digits, starting with a "
                               "letter");
  }
  parameter.name = std::move(*name);
  auto type = ParseParameterType(reader);
  if (!type.ok()) return type.error();
  parameter.type = *type;
  auto required = reader.Bool("required", false);
  if (!required.ok()) return required.error();
  parameter.required = *required;
  auto secret = reader.Bool("secret", false);
  if (!secret.ok()) return secret.error();
  parameter.secret = *secret;
  auto fallback = reader.OptionalString("default");
  if (!fallback.ok()) return fallback.error();
  parameter.default_value = std::move(*fallback);
  auto description = reader.OptionalString("description");
  if (!description.ok()) return description.error();
  parameter.description = description->value_or("");
  CREDGATE_RETURN_IF_ERROR(reader.Finish());

  if (parameter.secret && parameter.name != kClientSecretParameter) {
    // NOTE: credgate seals one secret per provider, so clientSecret is the only secret
    // parameter. An entry that needs another one needs a second sealed member first.
    return reader.Fail("secret", "only the clientSecret parameter may be secret");
  }
  if (parameter.name == kClientSecretParameter && !parameter.secret) {
    return reader.Fail("secret", "clientSecret must be marked secret");
  }
  if (parameter.required && parameter.default_value) {
    return reader.Fail("default", "a required parameter cannot have a default; make it "
                                  "optional or drop the default");
  }
  if (parameter.secret && parameter.default_value) {
    return reader.Fail("default", "a secret parameter cannot have a default");
  }
  if (parameter.default_value && !parameter.default_value->empty()) {
    Status valid = ValidateParameterValue(parameter, *parameter.default_value, "default");
    if (!valid.ok()) return reader.Fail("default", valid.error().message);
  }
  return parameter;
}

// Checks that `text` is a valid template whose placeholders name parameters of `grant`. With
// `need_values`, each placeholder's parameter must be required or have a non-empty default, so
// that the template always expands.
Status CheckTemplate(ObjectReader& reader, std::string_view member, const GrantSpec& grant,
                     std::string_view text, bool need_values) {
  auto pieces = ParseTemplate(text);
  if (!pieces.ok()) return reader.Fail(member, pieces.error().message);
  for (const std::string& name : PlaceholderNames(*pieces)) {
    const ParameterSpec* parameter = grant.FindParameter(name);
    if (parameter == nullptr) {
      return reader.Fail(member, "placeholder {" + name + "} names no parameter of this grant");
    }
    if (parameter->secret) {
      return reader.Fail(member, "placeholder {" + name + "} names a secret parameter");
    }
    const bool always_set =
        parameter->required || (parameter->default_value && !parameter->default_value->empty());
    if (need_values && !always_set) {
      return reader.Fail(member, "placeholder {" + name +
                                     "} names an optional parameter without a default, so the "
                                     "URL could not be built");
    }
  }
  return OkStatus();
}

// Checks that a URL template expands to an https URL, using sample values for its parameters.
Status CheckUrlTemplate(ObjectReader& reader, std::string_view member, const GrantSpec& grant,
                        std::string_view text) {
  const bool optional = member == "refreshUrl" || member == "issuer";
  CREDGATE_RETURN_IF_ERROR(CheckTemplate(reader, member, grant, text, !optional));
  ParameterValues samples;
  for (const ParameterSpec& parameter : grant.parameters) {
    switch (parameter.type) {
      case ParameterType::kUrl:
        samples.values[parameter.name] = "https://example.com";
        break;
      case ParameterType::kHostname:
        samples.values[parameter.name] = "example.com";
        break;
      default:
        samples.values[parameter.name] = "example";
        break;
    }
  }
  auto url = ExpandUrlTemplate(grant, samples, text);
  if (!url.ok()) return reader.Fail(member, url.error().message);
  Status valid = ValidateEndpointUrl("url", *url);
  if (!valid.ok()) {
    return reader.Fail(member, "with sample values the template gives '" + *url +
                                   "', which is not an https URL");
  }
  return OkStatus();
}

// Reads authorizationResponseIssParameterSupported: a boolean, or a template naming a parameter
// whose value is "true" or "false".
Result<std::string> ParseIssParameterSupported(ObjectReader& reader, const GrantSpec& grant) {
  constexpr std::string_view kMember = "authorizationResponseIssParameterSupported";
  const json::value* value = reader.Find(kMember);
  if (value == nullptr) return std::string("false");
  std::string text;
  if (value->is_bool()) {
    text = value->get_bool() ? "true" : "false";
  } else if (value->is_string()) {
    text = std::string(value->get_string());
    CREDGATE_RETURN_IF_ERROR(CheckTemplate(reader, kMember, grant, text, false));
  } else {
    return reader.Fail(kMember, "must be true, false or a \"{parameter}\" template");
  }
  if (text != "false" && grant.issuer.empty()) {
    return reader.Fail(kMember, "needs the grant's issuer, because iss is compared with it");
  }
  return text;
}

Result<std::vector<ParameterTemplate>> ParseRequestParameters(
    ObjectReader& reader, std::string_view member, const GrantSpec& grant,
    std::initializer_list<std::string_view> reserved) {
  std::vector<ParameterTemplate> out;
  auto object = reader.Object(member);
  if (!object.ok()) return object.error();
  if (*object == nullptr) return out;
  for (const auto& [key, value] : **object) {
    const std::string field = std::string(member) + "." + std::string(key);
    if (!IsRequestParameterName(key)) {
      return reader.Fail(field, "is not a request parameter name");
    }
    if (std::find(reserved.begin(), reserved.end(), std::string_view(key)) != reserved.end()) {
      return reader.Fail(field, "credgate sets this parameter itself");
    }
    if (!value.is_string()) return reader.Fail(field, "must be a string");
    CREDGATE_RETURN_IF_ERROR(CheckTemplate(reader, field, grant, value.get_string(), false));
    out.emplace_back(std::string(key), std::string(value.get_string()));
  }
  return out;
}

Result<GrantSpec> ParseGrant(std::string_view file, const std::string& path,
                             const json::object& object, GrantKind kind) {
  ObjectReader reader(file, path, object);
  GrantSpec grant;

  auto parameters = reader.Array("parameters");
  if (!parameters.ok()) return parameters.error();
  if (*parameters == nullptr) return reader.Fail("parameters", "is required");
  for (size_t i = 0; i < (*parameters)->size(); ++i) {
    auto parameter = ParseParameter(file, reader.Field("parameters") + "[" + std::to_string(i) +
                                              "]",
                                    (**parameters)[i]);
    if (!parameter.ok()) return parameter.error();
    if (grant.FindParameter(parameter->name) != nullptr) {
      return reader.Fail("parameters", "parameter \"" + parameter->name + "\" appears twice");
    }
    grant.parameters.push_back(std::move(*parameter));
  }
  const ParameterSpec* client_id = grant.FindParameter(kClientIdParameter);
  if (client_id == nullptr || client_id->type != ParameterType::kString) {
    return reader.Fail("parameters", "needs a clientId parameter of type \"string\"");
  }
  if (grant.FindParameter(kClientSecretParameter) == nullptr) {
    return reader.Fail("parameters", "needs a clientSecret parameter");
  }
  const ParameterSpec* scopes = grant.FindParameter(kScopesParameter);
  if (scopes != nullptr && scopes->type != ParameterType::kScopes) {
    return reader.Fail("parameters", "the scopes parameter must have type \"scopes\"");
  }

  const bool code = kind == GrantKind::kAuthorizationCode;
  if (!code) {
    auto names = reader.Array("connectionParameters");
    if (!names.ok()) return names.error();
    if (*names != nullptr) {
      for (const auto& name : **names) {
        if (!name.is_string() || grant.FindParameter(name.get_string()) == nullptr) {
          return reader.Fail("connectionParameters",
                             "must list names of this grant's parameters");
        }
        const std::string text(name.get_string());
        if (text != kClientIdParameter && text != kClientSecretParameter) {
          return reader.Fail("connectionParameters",
                             "only clientId and clientSecret may be connection parameters");
        }
        grant.connection_parameters.push_back(text);
      }
    }
  }

  if (code) {
    auto authorization_url = reader.RequiredString("authorizationUrl");
    if (!authorization_url.ok()) return authorization_url.error();
    grant.authorization_url = std::move(*authorization_url);
    CREDGATE_RETURN_IF_ERROR(
        CheckUrlTemplate(reader, "authorizationUrl", grant, grant.authorization_url));
  }
  auto token_url = reader.RequiredString("tokenUrl");
  if (!token_url.ok()) return token_url.error();
  grant.token_url = std::move(*token_url);
  CREDGATE_RETURN_IF_ERROR(CheckUrlTemplate(reader, "tokenUrl", grant, grant.token_url));

  if (code) {
    auto refresh_url = reader.OptionalString("refreshUrl");
    if (!refresh_url.ok()) return refresh_url.error();
    grant.refresh_url = refresh_url->value_or("");
    if (!grant.refresh_url.empty()) {
      CREDGATE_RETURN_IF_ERROR(CheckUrlTemplate(reader, "refreshUrl", grant, grant.refresh_url));
    }
    auto pkce = reader.Bool("pkce", true);
    if (!pkce.ok()) return pkce.error();
    grant.pkce = *pkce;
    auto issuer = reader.OptionalString("issuer");
    if (!issuer.ok()) return issuer.error();
    grant.issuer = issuer->value_or("");
    if (!grant.issuer.empty()) {
      CREDGATE_RETURN_IF_ERROR(CheckUrlTemplate(reader, "issuer", grant, grant.issuer));
    }
    auto iss_supported = ParseIssParameterSupported(reader, grant);
    if (!iss_supported.ok()) return iss_supported.error();
    grant.iss_parameter_supported = std::move(*iss_supported);
    auto scope_parameter = reader.OptionalString("scopeParameter");
    if (!scope_parameter.ok()) return scope_parameter.error();
    grant.scope_parameter = scope_parameter->value_or("scope");
    if (!IsRequestParameterName(grant.scope_parameter)) {
      return reader.Fail("scopeParameter", "is not a request parameter name");
    }
    auto authorization_parameters = ParseRequestParameters(
        reader, "authorizationParameters", grant,
        {"response_type", "client_id", "redirect_uri", "state", "code_challenge",
         "code_challenge_method", "scope", grant.scope_parameter});
    if (!authorization_parameters.ok()) return authorization_parameters.error();
    grant.authorization_parameters = std::move(*authorization_parameters);
    auto refresh_parameters =
        ParseRequestParameters(reader, "refreshParameters", grant,
                               {"grant_type", "refresh_token", "client_id", "client_secret",
                                "scope"});
    if (!refresh_parameters.ok()) return refresh_parameters.error();
    grant.refresh_parameters = std::move(*refresh_parameters);
    auto refresh_scope = reader.Choice<RefreshScope>("refreshScope",
                                                     {{"required", RefreshScope::kSend},
                                                      {"optional", RefreshScope::kOmit},
                                                      {"forbidden", RefreshScope::kOmit}},
                                                     RefreshScope::kOmit);
    if (!refresh_scope.ok()) return refresh_scope.error();
    grant.refresh_scope = *refresh_scope;
  }
  auto token_parameters = ParseRequestParameters(
      reader, "tokenParameters", grant,
      {"grant_type", "code", "redirect_uri", "code_verifier", "client_id", "client_secret",
       "refresh_token", "scope"});
  if (!token_parameters.ok()) return token_parameters.error();
  grant.token_parameters = std::move(*token_parameters);

  CREDGATE_RETURN_IF_ERROR(reader.Finish());
  return grant;
}

Result<char> ParseSeparator(ObjectReader& reader, std::string_view member, char fallback) {
  auto text = reader.OptionalString(member);
  if (!text.ok()) return text.error();
  if (!text->has_value()) return fallback;
  if (**text == " ") return ' ';
  if (**text == ",") return ',';
  return reader.Fail(member, "must be \" \" or \",\"");
}

// Reads a JSON pointer member into `target`. An absent member keeps the default (the RFC 6749
// name), and null, where `nullable`, switches the member off.
Status ParsePointer(ObjectReader& reader, const json::object& object, std::string_view member,
                    std::string& target, bool nullable) {
  reader.Find(member);
  const json::value* value = object.if_contains(member);
  if (value == nullptr) return OkStatus();
  if (value->is_null()) {
    if (!nullable) return reader.Fail(member, "cannot be null");
    target.clear();
    return OkStatus();
  }
  if (!value->is_string() || !value->get_string().starts_with("/")) {
    return reader.Fail(member, "must be a JSON pointer such as \"/access_token\"");
  }
  target = std::string(value->get_string());
  return OkStatus();
}

Status ParseLocations(ObjectReader& reader, const json::object& object,
                      TokenLocations& locations) {
  CREDGATE_RETURN_IF_ERROR(
      ParsePointer(reader, object, "accessToken", locations.access_token, false));
  CREDGATE_RETURN_IF_ERROR(
      ParsePointer(reader, object, "refreshToken", locations.refresh_token, true));
  CREDGATE_RETURN_IF_ERROR(ParsePointer(reader, object, "expiresIn", locations.expires_in, true));
  CREDGATE_RETURN_IF_ERROR(ParsePointer(reader, object, "scope", locations.scope, true));
  return ParsePointer(reader, object, "tokenType", locations.token_type, true);
}

Status ParseTokenResponseSection(ObjectReader& parent, CatalogueEntry& entry) {
  auto object = parent.Object("tokenResponse");
  if (!object.ok()) return object.error();
  if (*object == nullptr) return OkStatus();
  ObjectReader reader(parent.file(), parent.Field("tokenResponse"), **object);
  CREDGATE_RETURN_IF_ERROR(ParseLocations(reader, **object, entry.token_locations));
  entry.refresh_token_locations = entry.token_locations;
  auto refresh = reader.Object("refresh");
  if (!refresh.ok()) return refresh.error();
  if (*refresh != nullptr) {
    // The members of a refresh response default to RFC 6749's names, not to those of the
    // code response, because providers that nest one usually do not nest the other.
    ObjectReader inner(reader.file(), reader.Field("refresh"), **refresh);
    entry.refresh_token_locations = TokenLocations();
    CREDGATE_RETURN_IF_ERROR(ParseLocations(inner, **refresh, entry.refresh_token_locations));
    CREDGATE_RETURN_IF_ERROR(inner.Finish());
  }
  auto separator = ParseSeparator(reader, "scopeSeparator", entry.scope_separator);
  if (!separator.ok()) return separator.error();
  entry.response_scope_separator = *separator;
  return reader.Finish();
}

Status ParseTokensSection(ObjectReader& parent, CatalogueEntry& entry) {
  auto object = parent.Object("tokens");
  if (!object.ok()) return object.error();
  if (*object == nullptr) return parent.Fail("tokens", "is required");
  ObjectReader reader(parent.file(), parent.Field("tokens"), **object);
  if (reader.Find("accessTokensExpire") == nullptr) {
    return reader.Fail("accessTokensExpire", "is required");
  }
  auto expire = reader.Bool("accessTokensExpire", true);
  if (!expire.ok()) return expire.error();
  entry.access_tokens_expire = *expire;
  auto lifetime = reader.Seconds("defaultAccessTokenLifetimeSeconds");
  if (!lifetime.ok()) return lifetime.error();
  entry.default_access_token_lifetime = *lifetime;
  if (!entry.access_tokens_expire && entry.default_access_token_lifetime) {
    return reader.Fail("defaultAccessTokenLifetimeSeconds",
                       "is set although accessTokensExpire is false");
  }
  auto rotation = reader.Choice<RefreshTokenRotation>(
      "refreshTokenRotation",
      {{"never", RefreshTokenRotation::kNever},
       {"always", RefreshTokenRotation::kAlways},
       {"sometimes", RefreshTokenRotation::kSometimes}},
      std::nullopt);
  if (!rotation.ok()) return rotation.error();
  entry.refresh_token_rotation = *rotation;

  auto lifetimes = reader.Object("refreshTokenLifetime");
  if (!lifetimes.ok()) return lifetimes.error();
  if (*lifetimes != nullptr) {
    ObjectReader inner(reader.file(), reader.Field("refreshTokenLifetime"), **lifetimes);
    auto absolute = inner.Seconds("absoluteSeconds");
    if (!absolute.ok()) return absolute.error();
    entry.refresh_token_absolute_lifetime = *absolute;
    auto idle = inner.Seconds("idleSeconds");
    if (!idle.ok()) return idle.error();
    entry.refresh_token_idle_lifetime = *idle;
    CREDGATE_RETURN_IF_ERROR(inner.Finish());
  }
  return reader.Finish();
}

Status ParseKeep(ObjectReader& parent, CatalogueEntry& entry) {
  auto array = parent.Array("keep");
  if (!array.ok()) return array.error();
  if (*array == nullptr) return OkStatus();
  for (size_t i = 0; i < (*array)->size(); ++i) {
    const std::string path = parent.Field("keep") + "[" + std::to_string(i) + "]";
    const json::value& item = (**array)[i];
    if (!item.is_object()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(parent.file()) + ": " + path + ": must be an object");
    }
    ObjectReader reader(parent.file(), path, item.get_object());
    KeptValue kept;
    auto name = reader.RequiredString("name");
    if (!name.ok()) return name.error();
    if (!IsRequestParameterName(*name) || *name == "access_token" ||
        *name == "refresh_token" || *name == "id_token") {
      return reader.Fail("name", "\"" + *name + "\" is not a usable claim name");
    }
    kept.name = std::move(*name);
    auto source = reader.Choice<KeptValue::Source>(
        "from",
        {{"callback", KeptValue::Source::kCallback},
         {"tokenResponse", KeptValue::Source::kTokenResponse},
         {"idToken", KeptValue::Source::kIdToken}},
        std::nullopt);
    if (!source.ok()) return source.error();
    kept.source = *source;
    const std::string_view key_member = kept.source == KeptValue::Source::kCallback ? "parameter"
                                        : kept.source == KeptValue::Source::kIdToken ? "claim"
                                                                                     : "path";
    auto key = reader.RequiredString(key_member);
    if (!key.ok()) return key.error();
    if (kept.source == KeptValue::Source::kTokenResponse && !key->starts_with("/")) {
      return reader.Fail(key_member, "must be a JSON pointer such as \"/instance_url\"");
    }
    kept.key = std::move(*key);
    CREDGATE_RETURN_IF_ERROR(reader.Finish());
    entry.kept_values.push_back(std::move(kept));
  }
  return OkStatus();
}

}  // namespace

Result<CatalogueEntry> ParseCatalogueEntry(std::string_view file, std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(file) + ": is not valid JSON: " + ec.message());
  }
  if (!value.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(file) + ": must contain one JSON object");
  }
  ObjectReader reader(file, "", value.get_object());
  CatalogueEntry entry;
  entry.file = std::string(file);

  auto id = reader.RequiredString("id");
  if (!id.ok()) return id.error();
  if (!IsValidName(*id)) return reader.Fail("id", "\"" + *id + "\" is not a valid name");
  if (file != *id + ".json") {
    return reader.Fail("id", "\"" + *id + "\" must match the file name " + std::string(file));
  }
  entry.id = std::move(*id);
  auto display_name = reader.RequiredString("displayName");
  if (!display_name.ok()) return display_name.error();
  entry.display_name = std::move(*display_name);
  auto documentation = reader.RequiredString("documentation");
  if (!documentation.ok()) return documentation.error();
  if (!documentation->starts_with("https://")) {
    return reader.Fail("documentation", "must be the https URL of the provider's documentation");
  }
  entry.documentation = std::move(*documentation);
  auto notes = reader.OptionalString("notes");
  if (!notes.ok()) return notes.error();
  entry.notes = notes->value_or("");

  auto auth = reader.Choice<ClientAuthMethod>(
      "clientAuthentication",
      {{"client_secret_basic", ClientAuthMethod::kClientSecretBasic},
       {"client_secret_post", ClientAuthMethod::kClientSecretPost}},
      std::nullopt);
  if (!auth.ok()) return auth.error();
  entry.client_auth_method = *auth;
  auto encoding = reader.Choice<TokenRequestEncoding>(
      "tokenRequestEncoding",
      {{"form", TokenRequestEncoding::kForm}, {"json", TokenRequestEncoding::kJson}},
      TokenRequestEncoding::kForm);
  if (!encoding.ok()) return encoding.error();
  entry.token_request_encoding = *encoding;
  auto separator = ParseSeparator(reader, "scopeSeparator", ' ');
  if (!separator.ok()) return separator.error();
  entry.scope_separator = *separator;
  entry.response_scope_separator = entry.scope_separator;

  auto grants = reader.Object("grantTypes");
  if (!grants.ok()) return grants.error();
  if (*grants == nullptr) return reader.Fail("grantTypes", "is required");
  ObjectReader grant_reader(file, "grantTypes", **grants);
  auto code = grant_reader.Object("authorizationCode");
  if (!code.ok()) return code.error();
  if (*code != nullptr) {
    auto grant = ParseGrant(file, "grantTypes.authorizationCode", **code,
                            GrantKind::kAuthorizationCode);
    if (!grant.ok()) return grant.error();
    entry.authorization_code = std::move(*grant);
  }
  auto credentials = grant_reader.Object("clientCredentials");
  if (!credentials.ok()) return credentials.error();
  if (*credentials != nullptr) {
    auto grant = ParseGrant(file, "grantTypes.clientCredentials", **credentials,
                            GrantKind::kClientCredentials);
    if (!grant.ok()) return grant.error();
    entry.client_credentials = std::move(*grant);
  }
  CREDGATE_RETURN_IF_ERROR(grant_reader.Finish());
  if (!entry.authorization_code && !entry.client_credentials) {
    return reader.Fail("grantTypes", "needs authorizationCode, clientCredentials or both");
  }

  CREDGATE_RETURN_IF_ERROR(ParseTokenResponseSection(reader, entry));
  CREDGATE_RETURN_IF_ERROR(ParseTokensSection(reader, entry));
  CREDGATE_RETURN_IF_ERROR(ParseKeep(reader, entry));
  CREDGATE_RETURN_IF_ERROR(reader.Finish());
  return entry;
}

}  // namespace credgate::credentials
