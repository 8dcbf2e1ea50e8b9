// The management resources, shaped like Azure API Management's ARM resources so that existing
// ARM and Bicep property bodies work unchanged. Each Parse* function validates one PUT body
// once, at save time, and returns the typed resource; each Render* function returns the body a
// GET sends back, with read-only fields filled and write-only secrets left out.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::management {

// Returns an error unless `name` is a valid resource name: 1 to 80 characters, letters, digits,
// '-', '_' and '.', starting with a letter or digit (the ARM rule for these resources).
Status ValidateResourceName(std::string_view name, std::string_view what);

// Parses a JSON request body. Errors name the offset of a syntax error.
Result<boost::json::object> ParseJsonBody(std::string_view body);

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
  std::string identity_provider;  // "oauth2" or "oauth2pkce".
  std::string client_id;
  Secret client_secret;  // Empty on a PUT that leaves the stored secret unchanged.
  std::string scopes;
  std::string authorization_url;
  std::string token_url;
  std::string refresh_url;
};

enum class GrantType { kAuthorizationCode, kClientCredentials };

struct ConnectionResource {
  std::string provider_id;
  std::string id;
  GrantType grant_type = GrantType::kAuthorizationCode;
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
};

struct PolicyResource {
  std::string xml;
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

// Serialisation for the store. The provider's client secret is not part of it: the caller stores
// it sealed, separately.
boost::json::object StoreProvider(const ProviderResource& provider);

}  // namespace credgate::management
