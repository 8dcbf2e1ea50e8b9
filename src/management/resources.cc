#include "management/resources.h"

#include "management/operation_responses.h"
#include "management/resource_fields.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <algorithm>
#include <cctype>

namespace credgate::management {

namespace json = boost::json;
using namespace internal;  // NOLINT: the field helpers of resource_fields.h

namespace {

constexpr size_t kMaxNameLength = 80;
constexpr size_t kMaxPolicyBytes = 256 * 1024;

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

Result<json::object> ParseJsonBody(std::string_view body, json::storage_ptr storage) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Invalid("the request body is empty: send a JSON object, for example "
                   "{\"properties\":{...}}");
  }
  json::parse_options options;
  options.max_depth = 32;
  // The parser's work space for a body of ordinary depth, so that a parse does not allocate it.
  unsigned char work_space[1024];
  json::stream_parser parser({}, options, work_space, sizeof(work_space));
  parser.reset(std::move(storage));
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
  CREDGATE_RETURN_IF_ERROR(ParseOperationResponses(p, operation));
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

Result<PolicyFragmentResource> ParsePolicyFragment(std::string_view id,
                                                   const json::object& body) {
  CREDGATE_RETURN_IF_ERROR(ValidateResourceName(id, "policy fragment"));
  auto properties = Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;
  PolicyFragmentResource fragment;
  fragment.id = std::string(id);
  auto format = OptionalString(p, "format", "properties.format");
  if (!format.ok()) return format.error();
  if (!format->empty() && *format != "rawxml" && *format != "xml") {
    return Invalid("unsupported 'properties.format' '" + *format + "': use 'rawxml' or 'xml'");
  }
  if (!format->empty()) fragment.format = *format;
  auto value = RequiredString(p, "value", "properties.value");
  if (!value.ok()) return value.error();
  if (value->size() > kMaxPolicyBytes) {
    return Invalid("'properties.value' is larger than 256 KiB");
  }
  fragment.xml = std::move(*value);
  auto description = OptionalString(p, "description", "properties.description");
  if (!description.ok()) return description.error();
  if (description->size() > 1000) {
    return Invalid("'properties.description' is longer than 1000 characters");
  }
  fragment.description = std::move(*description);
  return fragment;
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
  if (!operation.responses.empty()) p["responses"] = operation.responses;
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

json::object RenderPolicyFragment(const PolicyFragmentResource& fragment) {
  json::object p;
  p["format"] = fragment.format;
  p["value"] = fragment.xml;
  p["description"] = fragment.description;
  return Envelope("/policyFragments/" + fragment.id, fragment.id,
                  "Microsoft.ApiManagement/service/policyFragments", std::move(p));
}

}  // namespace credgate::management
