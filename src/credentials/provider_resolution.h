// Turns a catalogue entry and the parameter values an administrator set into a ProviderConfig:
// checks required parameters, applies defaults, validates each value by its type and expands
// the URL and request-parameter templates.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"
#include "credentials/catalogue.h"
#include "credentials/model.h"

namespace credgate::credentials {

inline constexpr std::string_view kClientIdParameter = "clientId";
inline constexpr std::string_view kClientSecretParameter = "clientSecret";
inline constexpr std::string_view kScopesParameter = "scopes";

// The parameter values of one provider or connection. clientSecret is the only secret parameter
// (the catalogue loader enforces it), so it has a field of its own and is never in `values`.
struct ParameterValues {
  std::map<std::string, std::string, std::less<>> values;
  Secret client_secret;

  // Returns the value of `name`, or "" when it has none.
  std::string_view Get(std::string_view name) const;
};

// Validates `value` against the parameter's type. `field` names the setting in the error
// message. Errors: kInvalidArgument "<field>: <problem>; <fix>".
Status ValidateParameterValue(const ParameterSpec& parameter, std::string_view value,
                              std::string_view field);

// Applies the grant's defaults to `given` and checks every value: unknown names, types, and
// required parameters other than clientSecret, whose stored value a PUT may keep, so that
// ValidateProviderConfig checks it. Parameters that `grant` lists in connection_parameters may be missing
// when `connection_may_supply` is true, because each connection then sets them. `field_prefix`
// (for example "properties.oauth2.grantTypes.authorizationCode.") starts every field name in
// errors.
Result<ParameterValues> ApplyParameterSpecs(const GrantSpec& grant, ParameterValues given,
                                            bool connection_may_supply,
                                            std::string_view field_prefix);

// Returns `provider` with the connection's values of the grant's connection_parameters laid
// over it. Errors: kInvalidArgument for a connection parameter that the grant does not list.
Result<ParameterValues> MergeConnectionParameters(const GrantSpec& grant,
                                                  const ParameterValues& provider,
                                                  const ParameterValues& connection,
                                                  std::string_view field_prefix);

// Builds the ProviderConfig of provider `id` from `entry`'s `grant` and `values` (already passed
// through ApplyParameterSpecs, and MergeConnectionParameters for a connection) by expanding the
// templates. The caller validates the result with ValidateProviderConfig. Errors:
// kInvalidArgument naming the grant or the template whose parameter has no value.
Result<ProviderConfig> ResolveProviderConfig(const CatalogueEntry& entry, GrantKind grant,
                                             const ParameterValues& values, std::string id,
                                             std::string display_name);

// Expands the URL template `text` of `grant` with `values`: URL, host name and label values as
// written, other values percent-encoded. Errors: kInvalidArgument for a placeholder without a
// parameter or without a value.
Result<std::string> ExpandUrlTemplate(const GrantSpec& grant, const ParameterValues& values,
                                      std::string_view text);

// Splits `scopes` on whitespace, and on commas when `separator` is ',', and joins the scopes
// with single spaces.
std::string NormalizeScopes(std::string_view scopes, char separator);

// Joins space-separated `scopes` with `separator`.
std::string JoinScopes(std::string_view scopes, char separator);

}  // namespace credgate::credentials
