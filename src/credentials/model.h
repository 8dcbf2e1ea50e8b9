// The credential manager's data model: OAuth 2.0 credential providers, the access policies of a
// connection, a connection's status and the token set it stores, plus the validation applied
// when a provider is saved or loaded.
//
// A connection is one user's grant under a provider. Its key is "<provider id>/<connection id>",
// for example "github/alice".
#pragma once

#include <boost/json/object.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/result.h"
#include "common/secret.h"

namespace credgate::credentials {

// Client authentication method at the token endpoint (RFC 6749 §2.3.1).
enum class ClientAuthMethod {
  kClientSecretBasic,  // HTTP Basic with the form-encoded client id and secret.
  kClientSecretPost,   // client_id and client_secret in the request body.
};

// The grant a provider's connections use.
enum class GrantKind {
  kAuthorizationCode,  // RFC 6749 §4.1: a user signs in through a login link.
  kClientCredentials,  // RFC 6749 §4.4: credgate requests tokens as the client itself.
};

// The body format of token requests. RFC 6749 §4.1.3 prescribes a form body, but some
// providers document a JSON body.
enum class TokenRequestEncoding { kForm, kJson };

// Whether a refresh request carries `scope`. RFC 6749 §6 makes it optional and defines its
// absence as the scopes originally granted.
enum class RefreshScope {
  kOmit,  // Never sent. Also used for providers that accept either.
  kSend,  // The connection's scopes are sent, for providers that require them.
};

// Whether a provider issues a new refresh token with each refresh. Descriptive only: a new
// refresh token in a response always replaces the old one, and a response without one keeps it.
enum class RefreshTokenRotation { kNever, kAlways, kSometimes };

inline constexpr std::string_view kIdentityProviderOAuth2 = "oauth2";
inline constexpr std::string_view kIdentityProviderOAuth2Pkce = "oauth2pkce";

// The locations of a token response's members, as JSON pointers (RFC 6901). The defaults are the
// top-level names of RFC 6749 §5.1. An empty pointer means the response is not read for that
// member, so an empty token_type skips the check that the token is a Bearer token.
struct TokenLocations {
  std::string access_token = "/access_token";
  std::string refresh_token = "/refresh_token";
  std::string expires_in = "/expires_in";
  std::string scope = "/scope";
  std::string token_type = "/token_type";
};

// A value that a connection keeps in TokenSet::response, where policies read it as a claim, for
// example Salesforce's instance_url or QuickBooks' realmId. A refresh response without the
// value keeps the previous one.
struct KeptValue {
  enum class Source {
    kCallback,       // `key` is a query parameter of the sign-in callback.
    kTokenResponse,  // `key` is a JSON pointer into the token response.
    kIdToken,        // `key` is a claim of the response's id_token payload.
  };
  std::string name;  // The member name in TokenSet::response.
  Source source = Source::kTokenResponse;
  std::string key;
};

// An OAuth 2.0 authorization server registered by an administrator, with the behaviour of its
// identity provider (see credentials/catalogue.h) resolved into plain values.
struct ProviderConfig {
  std::string id;
  std::string display_name;
  std::string identity_provider{kIdentityProviderOAuth2};  // A catalogue entry id.
  GrantKind grant = GrantKind::kAuthorizationCode;
  std::string client_id;
  Secret client_secret;
  // False for public clients, whose entry marks clientSecret optional (oauth2pkce).
  bool client_secret_required = true;
  std::string scopes;    // Separated by spaces. Requests join them with scope_separator.
  std::string authorization_url;  // Empty for the client credentials grant.
  std::string token_url;
  std::string refresh_url;  // Empty means token_url.
  // Sends a PKCE S256 challenge. RFC 6749 §3.1 requires servers to ignore parameters they do
  // not recognise, so this is false only for providers that reject PKCE.
  bool use_pkce = true;
  // The authorization server's issuer identifier (RFC 8414 §2), compared exactly with the `iss`
  // parameter of each authorization response (RFC 9207 §2.4). Empty when unknown.
  std::string issuer;
  // Rejects an authorization response without `iss`. Only set together with `issuer`.
  bool require_iss_parameter = false;
  ClientAuthMethod client_auth_method = ClientAuthMethod::kClientSecretBasic;

  char scope_separator = ' ';           // Joins scopes in requests: ' ' or ','.
  char response_scope_separator = ' ';  // Splits the token response's scope.
  std::string scope_parameter = "scope";  // The authorization request's scope parameter.
  FormFields authorization_parameters;    // Added to the authorization URL.
  FormFields token_parameters;            // Added to code and client credentials requests.
  FormFields refresh_parameters;          // Added to refresh requests.
  RefreshScope refresh_scope = RefreshScope::kOmit;
  TokenRequestEncoding token_request_encoding = TokenRequestEncoding::kForm;
  TokenLocations token_locations;          // Of code and client credentials responses.
  TokenLocations refresh_token_locations;  // Of refresh responses.
  // The access token lifetime assumed when a response has no expires_in. nullopt leaves the
  // expiry unknown, so the token is used until a call fails.
  std::optional<std::chrono::seconds> default_access_token_lifetime;
  RefreshTokenRotation refresh_token_rotation = RefreshTokenRotation::kSometimes;
  // Refresh token lifetimes the provider documents, when it does: from issue (absolute) and
  // without use (idle).
  std::optional<std::chrono::seconds> refresh_token_absolute_lifetime;
  std::optional<std::chrono::seconds> refresh_token_idle_lifetime;
  std::vector<KeptValue> kept_values;

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
inline constexpr std::string_view kProviderSettingsInvalid = "ProviderSettingsInvalid";
// The provider rejected the refresh token after a refresh attempt that stopped before storing
// its result (a crash, a kill), so the rotated refresh token is lost and the user must sign in
// again.
inline constexpr std::string_view kRefreshTokenRotationLost = "RefreshTokenRotationLost";

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
  // The version of the store record these tokens were read from or saved as; 0 before they are
  // stored. Not serialized: the store keeps it beside the sealed tokens.
  int64_t version = 0;
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

// Returns whether the URL's host is 127.0.0.0/8, ::1 or the name "localhost". A name that only
// starts with "127." or "localhost" is not a loopback host.
bool IsLoopbackHost(const boost::urls::url_view& url);

// Validates an endpoint URL: absolute https, or http when the host is a loopback address
// (127.0.0.0/8, ::1 or "localhost"), with no fragment (RFC 6749 §3.1). `field` names the
// setting in the error message.
Status ValidateEndpointUrl(std::string_view field, std::string_view url);

// Validates a space-separated scope list against RFC 6749 §3.3 scope-token characters.
Status ValidateScopes(std::string_view field, std::string_view scopes);

}  // namespace credgate::credentials
