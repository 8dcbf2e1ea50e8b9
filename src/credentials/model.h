// The credential manager's data model: OAuth 2.0 credential providers, the access policies of a
// connection, a connection's status and the token set it stores, plus the validation applied
// when a provider is saved or loaded.
//
// A connection is one user's grant under a provider. Its key is "<provider id>/<connection id>",
// for example "github/alice".
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret.h"

namespace credgate::credentials {

// Client authentication method at the token endpoint (RFC 6749 §2.3.1).
enum class ClientAuthMethod {
  kClientSecretBasic,  // HTTP Basic with the form-encoded client id and secret.
  kClientSecretPost,   // client_id and client_secret in the form body.
};

inline constexpr std::string_view kIdentityProviderOAuth2 = "oauth2";
inline constexpr std::string_view kIdentityProviderOAuth2Pkce = "oauth2pkce";

// An OAuth 2.0 authorization server registered by an administrator.
struct ProviderConfig {
  std::string id;
  std::string display_name;
  std::string identity_provider{kIdentityProviderOAuth2};  // "oauth2" or "oauth2pkce".
  std::string client_id;
  Secret client_secret;  // May be empty only for "oauth2pkce" (a public client).
  std::string scopes;    // Space-separated, as the administrator wrote them.
  std::string authorization_url;
  std::string token_url;
  std::string refresh_url;  // Empty means token_url.
  // Records the administrator's choice. Login links send a PKCE challenge for every provider,
  // because RFC 6749 §3.1 requires servers to ignore parameters they do not recognise.
  bool use_pkce = true;
  ClientAuthMethod client_auth_method = ClientAuthMethod::kClientSecretBasic;

  const std::string& EffectiveRefreshUrl() const {
    return refresh_url.empty() ? token_url : refresh_url;
  }
};

// A rule naming the callers that may use a connection. Identifiers are Entra ID style GUIDs
// and compare ASCII case-insensitively.
struct AccessPolicy {
  std::string id;
  std::string tenant_id;
  std::string object_id;             // A user, service principal or group object id.
  std::vector<std::string> app_ids;  // Empty means any client application.
};

enum class ConnectionStatus { kConnected, kError };

// The cause of a connection's kError status. `code` is a stable name such as
// "ReloginRequired" or "RefreshFailed", and `message` quotes the provider's redacted error
// description.
struct ConnectionError {
  std::string code;
  std::string message;
};

inline constexpr std::string_view kReloginRequired = "ReloginRequired";
inline constexpr std::string_view kRefreshFailed = "RefreshFailed";

// The tokens of one connection, as the token endpoint returned them (RFC 6749 §5.1).
struct TokenSet {
  Secret access_token;
  Secret refresh_token;                 // Empty when the provider issued none.
  std::optional<TimePoint> expires_at;  // nullopt when the response had no expires_in.
  TimePoint obtained_at;                // When credgate received the response.
  std::string token_type;               // "Bearer".
  std::string scope;                    // Granted scopes, space-separated.
  // Every other member of the token response (access_token, refresh_token and id_token
  // removed), for policies that read claims of the grant.
  boost::json::object response;
};

// Serialises `tokens`, secrets included, to JSON. The caller seals the result before it is
// stored, so the return type is a Secret too.
Secret SerializeTokenSet(const TokenSet& tokens);

// Parses the output of SerializeTokenSet. Errors: kInvalidArgument naming the bad member.
Result<TokenSet> ParseTokenSet(std::string_view json);

// Returns true when `name` is a valid provider, connection or policy id: 1 to 80 characters
// from [A-Za-z0-9._-], starting with a letter or digit. '/' is excluded because it separates
// the parts of a connection key.
bool IsValidName(std::string_view name);

// Validates a provider before it is saved or loaded. Errors: kInvalidArgument with a message
// that names the field, the bad value (never a secret) and the fix.
Status ValidateProviderConfig(const ProviderConfig& config);

// Validates an endpoint URL: absolute https, or http when the host is a loopback address
// (127.0.0.0/8, ::1 or "localhost"), with no fragment (RFC 6749 §3.1). `field` names the
// setting in the error message.
Status ValidateEndpointUrl(std::string_view field, std::string_view url);

// Validates a space-separated scope list against RFC 6749 §3.3 scope-token characters.
Status ValidateScopes(std::string_view field, std::string_view scopes);

}  // namespace credgate::credentials
