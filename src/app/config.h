// ServeConfig: everything `credgate serve` needs, read from an optional YAML file and then from
// command-line flags (a flag given on the command line wins). Validated once here; the running
// server never re-checks it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::app {

struct ListenAddress {
  std::string host;  // Numeric IPv4 or IPv6 address, or "localhost".
  uint16_t port = 0;
};

// The certificate and key with which a listener serves HTTPS. Both empty serves plain HTTP.
struct ListenerTls {
  std::string certificate_file;  // PEM: the server certificate, then any intermediates.
  std::string key_file;          // PEM: the certificate's private key, unencrypted.

  bool enabled() const { return !certificate_file.empty() || !key_file.empty(); }
};

// The gateway's own identity for `identity-type="managed"`: the identity an access policy names
// to let the gateway itself use a connection.
struct ManagedIdentity {
  std::string tenant_id;
  std::string object_id;
  // The authorization provider, with the clientCredentials grant and its own clientId and
  // clientSecret, that issues the tokens of authentication-managed-identity. Empty: that
  // statement fails with reason ManagedIdentityNotConfigured.
  std::string token_provider;
  // True sends the statement's resource as the token request parameter `resource` (Entra ID v1,
  // AD FS); false, the default, sends the scope "<resource>/.default".
  bool resource_parameter = false;
  // User-assigned identities for authentication-managed-identity client-id="...": client id ->
  // the authorization provider, with the clientCredentials grant, that issues their tokens.
  std::map<std::string, std::string> user_assigned;
};

// One management resource declared in the config file and applied with PUT at start.
struct DeclaredResource {
  std::string path;       // For example "/authorizationProviders/github".
  std::string body_json;  // The ARM-shaped body, as JSON text.
};

// Administrators who sign in with a JWT from this issuer may call the management API with the
// role that `role_claim` names (management/admin_jwt.h).
//
// With `portal_client_id` set, the web portal also offers "Sign in with OpenID Connect": the
// authorization code flow with PKCE at this issuer (app/portal_oidc.h). The portal then
// presents the ID token, whose `aud` is the client id, so `audiences` must contain it.
struct AdminJwtConfig {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string jwks_uri;  // Empty: read from the issuer's OpenID Connect discovery document.
  std::string role_claim = "roles";
  std::string portal_client_id;  // Empty: the portal offers no OpenID Connect sign-in.
  // Empty for a public client, which authenticates with PKCE only. Read at load from the file
  // or environment variable that the configuration names.
  Secret portal_client_secret;
  // The management listener's /portal/oidc/callback as browsers reach it, registered with the
  // issuer as a redirect URI.
  std::string portal_redirect_url;
  std::string portal_scopes = "openid profile";  // Space-separated; must contain "openid".

  bool portal_enabled() const { return !portal_client_id.empty(); }
};

// The path of the portal's OpenID Connect callback on the management listener.
inline constexpr std::string_view kPortalOidcCallbackPath = "/portal/oidc/callback";

// A URL that receives every connection event (events/webhook_dispatcher.h), signed with `secret`.
struct WebhookConfig {
  std::string url;
  Secret secret;  // Read at load from the file or environment variable that the entry names.
};

inline constexpr size_t kMinWebhookSecretBytes = 16;

// At the default, 100,000 tokens that expire within the same hour take about 17 minutes of
// refreshing, so the scheduler starts them up to that much ahead of their due times.
inline constexpr int kDefaultMaxRefreshRate = 100;
inline constexpr int kMaxRefreshRateUpperBound = 100'000;

struct ServeConfig {
  ListenAddress gateway_listen{"127.0.0.1", 8080};
  ListenAddress management_listen{"127.0.0.1", 8081};
  // Read again on SIGHUP. FinalizeConfig() checks that both files of each are given and load.
  ListenerTls gateway_tls;
  ListenerTls management_tls;
  // A PEM file of CA certificates trusted, besides the system trust store, by every outgoing
  // connection: backends, token endpoints, OpenID configuration, JWKS and send-request.
  std::string backend_ca_file;
  // Base URL at which callers and browsers reach the gateway; the OAuth redirect URL is built
  // from it. Defaults to http://<gateway listen address>, or https:// when the gateway listener
  // has TLS.
  std::string public_url;
  std::string data_dir = "./credgate-data";
  // A key file that must exist. Empty: CREDGATE_MASTER_KEY, else <data_dir>/master.key, which is
  // generated on first start.
  std::string master_key_file;
  // A program and its arguments whose standard output is the master key text, run once at start
  // without a shell. Empty when not configured.
  std::vector<std::string> master_key_command;
  int master_key_command_timeout_seconds = 10;
  // The audit log file; empty means <data_dir>/audit.log.
  std::string audit_log;
  // Failed management authentications a peer address may make per window before it gets 429;
  // 0 turns the limit off.
  int admin_auth_failure_limit = 10;
  int admin_auth_failure_window_seconds = 60;
  std::optional<AdminJwtConfig> admin_jwt;
  std::string log_format = "text";
  std::string log_level = "info";
  // Exact URLs (after normalisation) to which a finished login may redirect the browser.
  std::vector<std::string> post_login_redirect_allow;
  std::optional<ManagedIdentity> managed_identity;
  // The Dapr sidecar that set-backend-service backend-id="dapr" sends to.
  std::string dapr_sidecar_url = "http://127.0.0.1:3500";
  std::vector<DeclaredResource> resources;
  int threads = 0;                  // I/O threads; 0 means one per CPU core.
  int drain_timeout_seconds = 30;   // How long SIGTERM waits for in-flight requests.
  int refresh_margin_seconds = 60;  // Refresh an access token this long before it expires.
  // The lifetime assumed for an access token whose token response had no expires_in, when it
  // has a refresh token: it is refreshed once this old. 0 never refreshes such tokens ahead.
  int default_token_lifetime_seconds = 3600;
  // The store: "sqlite:<path>", or "postgresql://..." for a cluster of gateways on one
  // database. Empty means the SQLite file <data_dir>/credgate.db.
  std::string store_url;
  // The name under which this process holds refresh leases; unique per gateway of a cluster.
  // Empty means "<host name>-<process id>".
  std::string instance_id;
  // How long a refresh lease lasts. It must exceed the slowest token response, because a
  // second gateway takes over an expired lease.
  int refresh_lease_ttl_seconds = 30;
  // How often a gateway on a shared store compares its memory with the whole store, in case a
  // change notification was lost.
  int reconcile_interval_seconds = 30;
  // The maximum number of background refreshes that start in any one second, across all
  // providers.
  int max_refresh_rate = kDefaultMaxRefreshRate;
  std::vector<WebhookConfig> webhooks;
  // Attempts per webhook delivery, the first included, before it is given up.
  int webhook_max_attempts = 6;
  // The store keeps about this many of the newest connection events for GET /events.
  int event_retention = 10'000;
};

// Parses `host:port` or `[v6]:port`. Errors name the flag or key in `field`.
Result<ListenAddress> ParseListenAddress(std::string_view text, std::string_view field);

// Loads the YAML file at `path` into `config`, overwriting the values it sets. Errors name the
// file, the key and, for YAML syntax errors, the line and column.
Status LoadConfigFile(const std::string& path, ServeConfig& config);

// Checks a store URL: "sqlite:<path>" or "postgresql://...". Errors never show a password.
Status ValidateStoreUrl(std::string_view url);
// Checks an instance id: 1 to 100 characters from [A-Za-z0-9._-].
Status ValidateInstanceId(std::string_view id);

// Checks the administrator JWT settings: an issuer, at least one audience and a role claim
// name, and, when the portal's OpenID Connect sign-in is configured, its client id, redirect
// URL and scopes. Errors name the configuration key.
Status ValidateAdminJwtConfig(const AdminJwtConfig& config);

// Fills defaults that depend on other values and checks the whole configuration, including that
// the TLS certificate, key and CA files load.
Status FinalizeConfig(ServeConfig& config);

}  // namespace credgate::app
