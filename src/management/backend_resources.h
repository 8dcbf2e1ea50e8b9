// Backends as management resources (ARM type Microsoft.ApiManagement/service/backends): a URL
// that set-backend-service backend-id="..." sends requests to, with the credentials the gateway
// adds to each of them.
//
// Credential values are write-only. GET returns the header and query parameter names with empty
// value lists and the authorization scheme without its parameter. The store keeps the values
// sealed under the keyring, bound to the record key, in the member "sealedCredentials".
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::crypto {
class Keyring;
}

namespace credgate::management {

// The maximum number of names in properties.credentials.header or .query, and the maximum number
// of values per name.
inline constexpr size_t kMaxBackendCredentialNames = 32;
inline constexpr size_t kMaxBackendCredentialValues = 16;

inline constexpr std::string_view kSealedCredentialsMember = "sealedCredentials";
// The member of an export document's "sealed" object that contains properties.credentials as JSON.
inline constexpr std::string_view kExportCredentialsMember = "properties.credentials";

struct BackendCredential {
  std::string name;
  std::vector<Secret> values;
};

struct BackendResource {
  std::string id;
  std::string url;  // Absolute http or https URL without query or fragment, no trailing '/'.
  std::string protocol = "http";
  std::string title;
  std::string description;
  std::vector<BackendCredential> headers;  // properties.credentials.header, in body order.
  std::vector<BackendCredential> query;    // properties.credentials.query, in body order.
  std::string authorization_scheme;        // Empty: no Authorization header is added.
  Secret authorization_parameter;

  bool has_credentials() const {
    return !headers.empty() || !query.empty() || !authorization_scheme.empty();
  }
};

// Validates a PUT body. Rejects, with the reason, the APIM backend properties that credgate
// cannot honour: client certificates, proxies, Service Fabric clusters, pools, circuit breakers,
// protocol "soap", and tls validation turned off. Errors: kInvalidArgument naming the field.
Result<BackendResource> ParseBackend(std::string_view id, const boost::json::object& body);

// Returns the body GET sends, without credential values.
boost::json::object RenderBackend(const BackendResource& backend);

// Returns properties.credentials with its values, as a PUT body carries it.
boost::json::object RenderBackendCredentials(const BackendResource& backend);

// Returns the store record body: RenderBackend plus the credentials sealed under the keyring's
// active key for `key`. Errors: kInternal when sealing fails.
Result<std::string> BackendRecordBody(const std::string& key, const BackendResource& backend,
                                      const crypto::Keyring& keyring);

// Parses a stored record body, opening its sealed credentials. Errors: kInvalidArgument for a
// body that no longer validates, and the keyring's error when the seal does not open.
Result<BackendResource> ParseStoredBackend(std::string_view id, const std::string& key,
                                           std::string_view body_json,
                                           const crypto::Keyring& keyring);

}  // namespace credgate::management
