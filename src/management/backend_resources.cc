#include "management/backend_resources.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

#include "crypto/aead.h"
#include "crypto/keyring.h"
#include "management/resource_fields.h"
#include "management/resources.h"

namespace credgate::management {

namespace json = boost::json;
using namespace internal;  // NOLINT: the field helpers of resource_fields.h

namespace {

constexpr size_t kMaxDescriptionLength = 2000;
constexpr size_t kMaxTitleLength = 300;
constexpr size_t kMaxCredentialValueBytes = 8 * 1024;

// The APIM backend properties that credgate rejects, with the reason it gives.
struct UnsupportedProperty {
  std::string_view name;
  std::string_view reason;
};
constexpr UnsupportedProperty kUnsupported[] = {
    {"proxy", "credgate sends to backends directly and cannot use a forward proxy"},
    {"properties", "credgate has no Service Fabric support"},
    {"serviceFabricCluster", "credgate cannot resolve Service Fabric services"},
    {"pool", "credgate has no load-balanced backend pools"},
    {"circuitBreaker", "credgate has no backend circuit breaker"},
    {"type", "credgate has only single backends, so leave 'properties.type' out or set 'Single'"},
};

// RFC 9110 §5.1: a field name is a token.
bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool HasControlCharacter(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return true;
  }
  return false;
}

// Reads properties.credentials.<member>: an object of name -> list of string values.
Result<std::vector<BackendCredential>> ParseCredentialMap(const json::object& credentials,
                                                          std::string_view member,
                                                          bool header_names) {
  const std::string field = "properties.credentials." + std::string(member);
  auto object = OptionalObject(credentials, member, field);
  if (!object.ok()) return object.error();
  if ((*object)->size() > kMaxBackendCredentialNames) {
    return Invalid("'" + field + "' has more than " + std::to_string(kMaxBackendCredentialNames) +
                   " names");
  }
  std::vector<BackendCredential> out;
  for (const auto& [name, list] : **object) {
    const std::string where = field + "." + std::string(name);
    if (header_names ? !IsToken(name) : name.empty() || HasControlCharacter(name)) {
      return Invalid("invalid name '" + std::string(name) + "' in '" + field + "': " +
                     (header_names
                          ? "a header name is a token of letters, digits and !#$%&'*+-.^_`|~"
                          : "use a non-empty name without control characters"));
    }
    if (!list.is_array() || list.as_array().empty()) {
      return Invalid("'" + where + "' must be a non-empty list of strings (GET leaves the values " +
                     "out, so send them again with every PUT)");
    }
    if (list.as_array().size() > kMaxBackendCredentialValues) {
      return Invalid("'" + where + "' has more than " +
                     std::to_string(kMaxBackendCredentialValues) + " values");
    }
    BackendCredential credential{std::string(name), {}};
    for (const json::value& value : list.as_array()) {
      if (!value.is_string() || value.get_string().empty()) {
        return Invalid("'" + where + "' must contain only non-empty strings");
      }
      std::string_view text = value.get_string();
      if (text.size() > kMaxCredentialValueBytes || HasControlCharacter(text)) {
        return Invalid("a value of '" + where +
                       "' is longer than 8 KiB or contains a control character");
      }
      credential.values.emplace_back(std::string(text));
    }
    out.push_back(std::move(credential));
  }
  return out;
}

Status ParseCredentials(const json::object& p, BackendResource& backend) {
  auto credentials = OptionalObject(p, "credentials", "properties.credentials");
  if (!credentials.ok()) return credentials.error();
  const json::object& c = **credentials;
  for (const auto& [name, value] : c) {
    if (name == "header" || name == "query" || name == "authorization") continue;
    if (name == "certificate" || name == "certificateIds") {
      return Invalid("'properties.credentials." + std::string(name) +
                     "' is not supported: credgate does not send client certificates to "
                     "backends");
    }
    return Invalid("unknown member 'properties.credentials." + std::string(name) +
                   "': use header, query or authorization");
  }
  auto headers = ParseCredentialMap(c, "header", true);
  if (!headers.ok()) return headers.error();
  backend.headers = std::move(*headers);
  auto query = ParseCredentialMap(c, "query", false);
  if (!query.ok()) return query.error();
  backend.query = std::move(*query);

  auto authorization = OptionalObject(c, "authorization", "properties.credentials.authorization");
  if (!authorization.ok()) return authorization.error();
  if ((*authorization)->empty()) return OkStatus();
  auto scheme =
      RequiredString(**authorization, "scheme", "properties.credentials.authorization.scheme");
  if (!scheme.ok()) return scheme.error();
  if (!IsToken(*scheme)) {
    return Invalid("invalid 'properties.credentials.authorization.scheme' '" + *scheme +
                   "': an authentication scheme is a token, for example Basic or Bearer");
  }
  auto parameter = RequiredString(**authorization, "parameter",
                                  "properties.credentials.authorization.parameter");
  if (!parameter.ok()) return parameter.error();
  if (parameter->size() > kMaxCredentialValueBytes || HasControlCharacter(*parameter)) {
    return Invalid(
        "'properties.credentials.authorization.parameter' is longer than 8 KiB or "
        "contains a control character");
  }
  backend.authorization_scheme = std::move(*scheme);
  backend.authorization_parameter = Secret(std::move(*parameter));
  return OkStatus();
}

Status ParseTls(const json::object& p) {
  auto tls = OptionalObject(p, "tls", "properties.tls");
  if (!tls.ok()) return tls.error();
  for (const auto& [name, value] : **tls) {
    if (name != "validateCertificateChain" && name != "validateCertificateName") {
      return Invalid("unknown member 'properties.tls." + std::string(name) +
                     "': use validateCertificateChain or validateCertificateName");
    }
    if (!value.is_bool()) {
      return Invalid("'properties.tls." + std::string(name) + "' must be true or false");
    }
    if (!value.get_bool()) {
      return Invalid("'properties.tls." + std::string(name) +
                     "' false is not supported: credgate always validates backend "
                     "certificates; trust a private CA with the backendCaFile setting instead");
    }
  }
  return OkStatus();
}

json::object CredentialMapJson(const std::vector<BackendCredential>& credentials,
                               bool with_values) {
  json::object out;
  for (const BackendCredential& credential : credentials) {
    json::array values;
    if (with_values) {
      for (const Secret& value : credential.values) values.emplace_back(value.Expose());
    }
    out[credential.name] = std::move(values);
  }
  return out;
}

}  // namespace

Result<BackendResource> ParseBackend(std::string_view id, const json::object& body) {
  CREDGATE_RETURN_IF_ERROR(ValidateResourceName(id, "backend"));
  auto properties = Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;
  for (const UnsupportedProperty& unsupported : kUnsupported) {
    const json::value* value = p.if_contains(unsupported.name);
    if (value == nullptr || value->is_null()) continue;
    if (unsupported.name == "type" && value->is_string() && value->get_string() == "Single") {
      continue;
    }
    return Invalid("'properties." + std::string(unsupported.name) +
                   "' is not supported: " + std::string(unsupported.reason));
  }

  BackendResource backend;
  backend.id = std::string(id);
  auto url = RequiredString(p, "url", "properties.url");
  if (!url.ok()) return url.error();
  auto parsed = boost::urls::parse_absolute_uri(*url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->host().empty() || !parsed->query().empty() || parsed->has_fragment() ||
      parsed->has_userinfo()) {
    return Invalid("invalid 'properties.url' '" + *url +
                   "': use an absolute http or https URL without user information, query or "
                   "fragment");
  }
  CREDGATE_RETURN_IF_ERROR(ValidateHostEndsAuthority(*parsed, *url, "properties.url"));
  backend.url = std::move(*url);
  while (backend.url.back() == '/') backend.url.pop_back();

  auto protocol = RequiredString(p, "protocol", "properties.protocol");
  if (!protocol.ok()) return protocol.error();
  if (*protocol != "http") {
    return Invalid("unsupported 'properties.protocol' '" + *protocol +
                   "': credgate sends HTTP requests only, so use 'http'");
  }
  auto title = OptionalString(p, "title", "properties.title");
  if (!title.ok()) return title.error();
  if (title->size() > kMaxTitleLength) {
    return Invalid("'properties.title' is longer than 300 characters");
  }
  backend.title = std::move(*title);
  auto description = OptionalString(p, "description", "properties.description");
  if (!description.ok()) return description.error();
  if (description->size() > kMaxDescriptionLength) {
    return Invalid("'properties.description' is longer than 2000 characters");
  }
  backend.description = std::move(*description);
  // properties.resourceId only links the backend to an Azure resource in the portal.
  auto resource_id = OptionalString(p, "resourceId", "properties.resourceId");
  if (!resource_id.ok()) return resource_id.error();

  CREDGATE_RETURN_IF_ERROR(ParseCredentials(p, backend));
  CREDGATE_RETURN_IF_ERROR(ParseTls(p));
  return backend;
}

json::object RenderBackendCredentials(const BackendResource& backend) {
  json::object credentials;
  credentials["header"] = CredentialMapJson(backend.headers, true);
  credentials["query"] = CredentialMapJson(backend.query, true);
  if (!backend.authorization_scheme.empty()) {
    credentials["authorization"] =
        json::object{{"scheme", backend.authorization_scheme},
                     {"parameter", backend.authorization_parameter.Expose()}};
  }
  return credentials;
}

json::object RenderBackend(const BackendResource& backend) {
  json::object p;
  p["url"] = backend.url;
  p["protocol"] = backend.protocol;
  if (!backend.title.empty()) p["title"] = backend.title;
  p["description"] = backend.description;
  if (backend.has_credentials()) {
    json::object credentials;
    credentials["header"] = CredentialMapJson(backend.headers, false);
    credentials["query"] = CredentialMapJson(backend.query, false);
    if (!backend.authorization_scheme.empty()) {
      credentials["authorization"] = json::object{{"scheme", backend.authorization_scheme}};
    }
    p["credentials"] = std::move(credentials);
  }
  p["tls"] = json::object{{"validateCertificateChain", true}, {"validateCertificateName", true}};
  return Envelope("/backends/" + backend.id, backend.id, "Microsoft.ApiManagement/service/backends",
                  std::move(p));
}

Result<std::string> BackendRecordBody(const std::string& key, const BackendResource& backend,
                                      const crypto::Keyring& keyring) {
  json::object body = RenderBackend(backend);
  if (backend.has_credentials()) {
    Secret plaintext(json::serialize(RenderBackendCredentials(backend)));
    auto sealed = keyring.Seal(plaintext, key);
    if (!sealed.ok()) return sealed.error();
    body[kSealedCredentialsMember] = crypto::SealedToBase64(*sealed);
  }
  return json::serialize(body);
}

Result<BackendResource> ParseStoredBackend(std::string_view id, const std::string& key,
                                           std::string_view body_json,
                                           const crypto::Keyring& keyring) {
  auto body = ParseJsonBody(body_json);
  if (!body.ok()) return body.error();
  const json::value* sealed = body->if_contains(kSealedCredentialsMember);
  if (sealed != nullptr && sealed->is_string()) {
    auto blob = crypto::SealedFromBase64(sealed->get_string());
    if (!blob.ok()) return blob.error();
    auto opened = keyring.Open(*blob, key);
    if (!opened.ok()) return opened.error();
    boost::system::error_code error;
    json::value credentials = json::parse(opened->Expose(), error);
    if (error || !credentials.is_object()) {
      return Invalid("the sealed credentials of backend '" + std::string(id) +
                     "' are not a JSON object");
    }
    json::value& properties = (*body)["properties"];
    if (!properties.is_object()) return Invalid("'properties' must be an object");
    properties.as_object()["credentials"] = std::move(credentials);
    // NOTE: boost::json cannot cleanse its buffers, so the parsed copies of the values stay in
    // freed heap memory until it is reused.
  }
  return ParseBackend(id, *body);
}

}  // namespace credgate::management
