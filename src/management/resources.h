// The management resources, shaped like Azure API Management's ARM resources so that existing
// ARM and Bicep property bodies work unchanged. Each Parse* function validates one PUT body
// once, at save time, and returns the typed resource; each Render* function returns the body a
// GET sends back, with read-only fields filled and write-only secrets left out.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "credentials/model.h"
#include "credentials/provider_resolution.h"
#include "management/connection_parameters.h"
#include "policy/response_examples.h"

namespace credgate::management {

// Returns an error unless `name` is a valid resource name: 1 to 80 characters, letters, digits,
// '-', '_' and '.', starting with a letter or digit (the ARM rule for these resources).
Status ValidateResourceName(std::string_view name, std::string_view what);

// Parses a JSON request body into memory from `storage` (the default heap when null). Errors
// name the offset of a syntax error.
Result<boost::json::object> ParseJsonBody(std::string_view body,
                                          boost::json::storage_ptr storage = {});

struct TrustedIssuerResource {
  std::string id;
  std::string issuer;
  std::vector<std::string> audiences;
  std::string jwks_uri;  // Empty: discovered from {issuer}/.well-known/openid-configuration.
  std::string object_id_claim = "oid";
  std::string tenant_id_claim = "tid";
  std::string groups_claim = "groups";
  std::string app_id_claim = "azp";
  int clock_skew_seconds = 60;
};

struct ProviderResource {
  std::string id;
  std::string display_name;
  std::string identity_provider;  // A catalogue entry id, for example "oauth2" or "google".
  // The grant whose member of properties.oauth2.grantTypes the body set.
  credentials::GrantKind grant = credentials::GrantKind::kAuthorizationCode;
  // The entry's non-secret parameters with defaults applied, as GET returns them.
  std::map<std::string, std::string, std::less<>> parameters;
  Secret client_secret;  // Empty on a PUT that leaves the stored secret unchanged.

  // Returns the value of parameter `name`, or "" when it has none.
  std::string_view Parameter(std::string_view name) const;
};

enum class GrantType { kAuthorizationCode, kClientCredentials };

struct ConnectionResource {
  std::string provider_id;
  std::string id;
  GrantType grant_type = GrantType::kAuthorizationCode;
  // False when the body had no properties.parameters, so that a PUT keeps the stored ones.
  bool parameters_given = false;
  // properties.parameters of a client credentials connection (clientId, clientSecret), which
  // override the provider's. Write-only: GET never returns them, and they are stored sealed.
  ConnectionParameters parameters;
};

struct AccessPolicyResource {
  std::string provider_id;
  std::string connection_id;
  std::string id;
  std::string tenant_id;
  std::string object_id;
  std::vector<std::string> app_ids;
};

struct ApiResource {
  std::string id;
  std::string display_name;
  std::string path;  // Without leading or trailing '/'; may be empty (the gateway root).
  std::string service_url;
};

struct OperationResource {
  std::string api_id;
  std::string id;
  std::string display_name;
  std::string method;  // Upper case, or "*" for any method.
  std::string url_template;
  // properties.responses as the PUT body sent it (validated), which GET returns.
  boost::json::array responses;
  // The bodies that mock-response sends, taken from `responses`; null when it is empty.
  std::shared_ptr<const policy::ResponseExamples> response_examples;
};

struct PolicyResource {
  std::string xml;
};

// A policy fragment (ARM type Microsoft.ApiManagement/service/policyFragments).
struct PolicyFragmentResource {
  std::string id;
  std::string format = "xml";  // "xml" or "rawxml", as the PUT body set it.
  std::string xml;             // properties.value, a <fragment> document.
  std::string description;
};

Result<TrustedIssuerResource> ParseTrustedIssuer(std::string_view id,
                                                 const boost::json::object& body);
Result<ProviderResource> ParseProvider(std::string_view id, const boost::json::object& body);
Result<ConnectionResource> ParseConnection(std::string_view provider_id, std::string_view id,
                                           const boost::json::object& body);
Result<AccessPolicyResource> ParseAccessPolicy(std::string_view provider_id,
                                               std::string_view connection_id, std::string_view id,
                                               const boost::json::object& body);
Result<ApiResource> ParseApi(std::string_view id, const boost::json::object& body);
Result<OperationResource> ParseOperation(std::string_view api_id, std::string_view id,
                                         const boost::json::object& body);
Result<PolicyResource> ParsePolicy(const boost::json::object& body);
// Checks the name, the format and the size; the caller compiles the XML.
Result<PolicyFragmentResource> ParsePolicyFragment(std::string_view id,
                                                   const boost::json::object& body);

// Read-only state of a connection, shown by GET.
struct ConnectionState {
  bool connected = false;
  std::string error_code;  // For example "Unauthenticated"; empty when connected.
  std::string error_message;
};

boost::json::object RenderTrustedIssuer(const TrustedIssuerResource& issuer);
boost::json::object RenderProvider(const ProviderResource& provider, std::string_view redirect_url);
boost::json::object RenderConnection(const ConnectionResource& connection,
                                     const ConnectionState& state);
boost::json::object RenderAccessPolicy(const AccessPolicyResource& policy);
boost::json::object RenderApi(const ApiResource& api);
boost::json::object RenderOperation(const OperationResource& operation);
boost::json::object RenderPolicy(std::string_view resource_path, const PolicyResource& policy);
boost::json::object RenderPolicyFragment(const PolicyFragmentResource& fragment);

// Returns the catalogue entry of the provider's identityProvider. Errors: kInvalidArgument
// listing the catalogue's ids.
Result<const credentials::CatalogueEntry*> FindIdentityProvider(std::string_view id);

// Returns the provider's parameter values (clientSecret included) for ResolveProviderConfig.
credentials::ParameterValues ProviderParameterValues(const ProviderResource& provider,
                                                     const Secret& client_secret);

// GET /identityProviders and /identityProviders/{id}: the catalogue's entries.
boost::json::object RenderIdentityProvider(const credentials::CatalogueEntry& entry);

}  // namespace credgate::management
