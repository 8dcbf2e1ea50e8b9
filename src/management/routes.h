// Parses a management request path into the resource it names. Paths are those of APIM's ARM
// resources below the service, for example /authorizationProviders/github/authorizations/alice.
// The full ARM form (/subscriptions/…/providers/Microsoft.ApiManagement/service/{name}/…) is
// accepted too, so that tools built for ARM work unchanged.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace credgate::management {

// openapi_test.cc walks every kind from kProviders to kIdentityProvider, so a new kind goes before
// kIdentityProvider.
enum class ResourceKind {
  kProviders,             // /authorizationProviders
  kProvider,              // /authorizationProviders/{p}
  kConnections,           // /authorizationProviders/{p}/authorizations
  kConnection,            // /authorizationProviders/{p}/authorizations/{a}
  kLoginLinks,            // /authorizationProviders/{p}/authorizations/{a}/getLoginLinks
  kConfirmConsentCode,    // /authorizationProviders/{p}/authorizations/{a}/confirmConsentCode
  kAccessPolicies,        // …/authorizations/{a}/accessPolicies
  kAccessPolicy,          // …/authorizations/{a}/accessPolicies/{id}
  kTrustedIssuers,        // /trustedIssuers
  kTrustedIssuer,         // /trustedIssuers/{id}
  kApis,                  // /apis
  kApi,                   // /apis/{api}
  kOperations,            // /apis/{api}/operations
  kOperation,             // /apis/{api}/operations/{op}
  kApiPolicy,             // /apis/{api}/policies/policy
  kOperationPolicy,       // /apis/{api}/operations/{op}/policies/policy
  kGlobalPolicy,          // /policies/policy
  kPolicyFragments,       // /policyFragments
  kPolicyFragment,        // /policyFragments/{id}
  kBackends,              // /backends
  kBackend,               // /backends/{id}
  kCertificates,          // /certificates
  kCertificate,           // /certificates/{id}
  kIdentityProviders,     // /identityProviders (the provider catalogue, read-only)
  kIdentityProvider,      // /identityProviders/{id}
};

struct ResourcePath {
  ResourceKind kind;
  // Provider, issuer, API, policy fragment, backend, certificate or identity provider id.
  std::string first;
  std::string second;  // Connection or operation id.
  std::string third;   // Access policy id.
};

// Parses `path` (without the query string). Errors: kNotFound naming the path.
Result<ResourcePath> ParseResourcePath(std::string_view path);

// Returns the store key of a resource, for example
// "authorizationProviders/github/authorizations/alice".
std::string StoreKey(const ResourcePath& path);

}  // namespace credgate::management
