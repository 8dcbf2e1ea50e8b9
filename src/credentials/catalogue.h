// The provider catalogue: one entry per identity provider (Google, GitHub, Entra ID, ...). An
// entry lists the parameters an administrator sets and the templates that turn them into the
// provider's URLs. It also records how the provider departs from RFC 6749: scope separator,
// client authentication, extra parameters, token locations in the response, values to keep.
//
// The entries are the JSON files under catalogue/ in the repository, compiled into the binary.
// docs/providers.md describes the file format. BuiltinCatalogue() parses and validates them once;
// ParseCatalogueEntry() is the same parser for one file.
//
// Entries are immutable after loading, so every method is thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "credentials/model.h"

namespace credgate::credentials {

// The type of a parameter, which decides how its value is validated and how a URL template
// inserts it.
enum class ParameterType {
  kString,    // Printable text. A URL template percent-encodes it.
  kUrl,       // An absolute https URL (http on loopback hosts). Inserted as written.
  kUri,       // An absolute URI of any scheme, such as api://app-id. Percent-encoded in URLs.
  kHostname,  // A DNS name such as dev-123.okta.com. Inserted as written.
  kLabel,     // One DNS label such as a ServiceNow instance name. Inserted as written.
  kScopes,    // Scopes separated by spaces or commas (RFC 6749 §3.3 scope-tokens).
};

std::string_view ParameterTypeName(ParameterType type);

struct ParameterSpec {
  std::string name;
  ParameterType type = ParameterType::kString;
  bool required = false;
  std::optional<std::string> default_value;
  bool secret = false;  // Write-only and stored sealed. Only clientSecret may be secret.
  std::string description;
};

// A parameter added to a request. The value is a template: "{name}" placeholders are replaced
// by parameter values, and a parameter whose placeholder resolves to an empty value is left out.
using ParameterTemplate = std::pair<std::string, std::string>;

// One grant type of an entry: its parameters and request templates.
struct GrantSpec {
  std::vector<ParameterSpec> parameters;
  // Parameters that a client credentials connection may set in its own properties.parameters,
  // overriding the provider's value. Empty for the authorization code grant.
  std::vector<std::string> connection_parameters;
  std::string authorization_url;  // Template. Empty for the client credentials grant.
  std::string token_url;          // Template.
  // Template. Empty, or resolving to an empty value, means the token URL.
  std::string refresh_url;
  bool pkce = true;
  // Template of the authorization server's issuer identifier (RFC 8414 §2), compared with the
  // `iss` parameter of the authorization response (RFC 9207 §2.4). Empty, or resolving to an
  // empty value, means the issuer is unknown and `iss` is not compared.
  std::string issuer;
  // "true", "false" or a template that resolves to one of them (empty counts as "false"): whether
  // the server sends `iss` in every authorization response (RFC 9207 §3), so that a response
  // without it is rejected.
  std::string iss_parameter_supported = "false";
  std::string scope_parameter = "scope";
  std::vector<ParameterTemplate> authorization_parameters;
  std::vector<ParameterTemplate> token_parameters;
  std::vector<ParameterTemplate> refresh_parameters;
  RefreshScope refresh_scope = RefreshScope::kOmit;

  const ParameterSpec* FindParameter(std::string_view name) const;
};

struct CatalogueEntry {
  std::string id;            // The identityProvider value, for example "google".
  std::string display_name;  // For example "Google".
  std::string documentation;  // URL of the provider's OAuth documentation.
  std::string notes;          // Quirks and uncertainties, in prose.
  std::string file;           // The source file name, for error messages.

  ClientAuthMethod client_auth_method = ClientAuthMethod::kClientSecretBasic;
  TokenRequestEncoding token_request_encoding = TokenRequestEncoding::kForm;
  char scope_separator = ' ';
  char response_scope_separator = ' ';
  std::optional<GrantSpec> authorization_code;
  std::optional<GrantSpec> client_credentials;

  TokenLocations token_locations;          // Of code and client credentials responses.
  TokenLocations refresh_token_locations;  // Of refresh responses.
  bool access_tokens_expire = true;
  std::optional<std::chrono::seconds> default_access_token_lifetime;
  RefreshTokenRotation refresh_token_rotation = RefreshTokenRotation::kSometimes;
  std::optional<std::chrono::seconds> refresh_token_absolute_lifetime;
  std::optional<std::chrono::seconds> refresh_token_idle_lifetime;
  std::vector<KeptValue> kept_values;

  // Returns the grant's spec, or null when the entry does not support the grant.
  const GrantSpec* Grant(GrantKind grant) const;
};

// Returns the entry in the file format with every member explicit, as
// GET /identityProviders/{id} shows it.
boost::json::object RenderCatalogueEntry(const CatalogueEntry& entry);

// Parses and validates one catalogue file. `file` names it in errors. Errors: kInvalidArgument
// with a message "<file>: <field path>: <problem>", for example
// "google.json: grantTypes.authorizationCode.tokenUrl: placeholder {tenant} names no parameter".
Result<CatalogueEntry> ParseCatalogueEntry(std::string_view file, std::string_view json);

class Catalogue {
 public:
  // Parses every file. Errors: the first file that fails, and duplicate ids.
  static Result<Catalogue> Load(std::span<const std::pair<std::string_view, std::string_view>> files);

  // Returns the entry with `id`, or null.
  const CatalogueEntry* Find(std::string_view id) const;
  // Entries ordered by id.
  const std::map<std::string, CatalogueEntry, std::less<>>& entries() const { return entries_; }

 private:
  std::map<std::string, CatalogueEntry, std::less<>> entries_;
};

// The files compiled from catalogue/, as (file name, contents) pairs. Defined in a source file
// that the build generates.
std::span<const std::pair<std::string_view, std::string_view>> EmbeddedCatalogueFiles();

// Loads the embedded catalogue on the first call and returns the result of that load on every
// call. The error names the file and the field.
const Result<Catalogue>& LoadBuiltinCatalogue();

// Returns the embedded catalogue, or an empty one when it failed to load. Start-up calls
// LoadBuiltinCatalogue() first and stops on its error, so the empty case happens only in a
// process that skipped that check.
const Catalogue& BuiltinCatalogue();

}  // namespace credgate::credentials
