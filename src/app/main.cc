// credgate: an API gateway with a built-in OAuth credential manager.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "app/admin_cli.h"
#include "app/config.h"
#include "app/resource_cli.h"
#include "app/serve.h"
#include "app/transfer_cli.h"
#include "crypto/key_command.h"

int main(int argc, char** argv) {
  CLI::App app{"credgate: an API gateway with a built-in OAuth credential manager"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "credgate 0.1.0");

  credgate::app::ServeConfig config;
  std::string config_file;
  std::string gateway_listen;
  std::string management_listen;
  std::vector<std::string> redirect_allow;

  CLI::App* serve = app.add_subcommand("serve", "Run the gateway and the management API");
  serve->add_option("--config", config_file, "YAML configuration file; flags override its values");
  serve->add_option("--gateway-listen", gateway_listen,
                    "Address of the gateway (data plane) listener, host:port (default "
                    "127.0.0.1:8080)");
  serve->add_option("--management-listen", management_listen,
                    "Address of the management API listener, host:port (default 127.0.0.1:8081)");
  for (auto [listener, tls] : {std::pair{"gateway", &config.gateway_tls},
                               std::pair{"management", &config.management_tls}}) {
    const std::string prefix = std::string("--") + listener + "-tls";
    serve->add_option(prefix + "-cert", tls->certificate_file,
                      std::string("PEM file with the ") + listener +
                          " listener's TLS certificate followed by any intermediates; with " +
                          prefix + "-key the listener serves HTTPS. Read again on SIGHUP");
    serve->add_option(prefix + "-key", tls->key_file,
                      "PEM file with the unencrypted private key of " + prefix + "-cert");
  }
  serve->add_option("--backend-ca-file", config.backend_ca_file,
                    "PEM file of CA certificates that outgoing https connections trust besides "
                    "the system trust store: backends, token endpoints, OpenID configuration, "
                    "JWKS and send-request");
  serve->add_option("--public-url", config.public_url,
                    "Base URL at which browsers and callers reach the gateway; the OAuth redirect "
                    "URL is <public-url>/.credgate/callback (default http://<gateway listen "
                    "address>, https:// with --gateway-tls-cert)");
  serve->add_option("--data-dir", config.data_dir,
                    "Directory of the SQLite database, the generated master key and admin key");
  serve->add_option("--master-key-file", config.master_key_file,
                    "Master key file (lines id:base64-key, mode 0600); default "
                    "<data-dir>/master.key, generated on first start unless CREDGATE_MASTER_KEY "
                    "is set");
  std::string master_key_command;
  serve->add_option("--master-key-command", master_key_command,
                    "Program whose standard output is the master key text, run once at start "
                    "without a shell; the value is split on spaces into the program and its "
                    "arguments");
  serve->add_option("--master-key-command-timeout", config.master_key_command_timeout_seconds,
                    "Seconds the master key command may run before it is killed (default 10)")
      ->check(CLI::Range(1, 3600));
  serve->add_option("--audit-log", config.audit_log,
                    "Audit log file, one JSON line per management change and issued token "
                    "(default <data-dir>/audit.log, mode 0600)");
  serve->add_option("--admin-auth-failure-limit", config.admin_auth_failure_limit,
                    "Failed management authentications a peer address may make per window "
                    "before it gets 429; 0 turns the limit off (default 10)")
      ->check(CLI::Range(0, 1'000'000));
  serve->add_option("--admin-auth-failure-window", config.admin_auth_failure_window_seconds,
                    "Window of the failed-authentication limit, in seconds (default 60)")
      ->check(CLI::Range(1, 3600));
  credgate::app::AdminJwtConfig admin_jwt;
  serve->add_option("--admin-jwt-issuer", admin_jwt.issuer,
                    "Issuer (iss) whose JWTs authenticate administrators on the management API");
  serve->add_option("--admin-jwt-audience", admin_jwt.audiences,
                    "Accepted audience of administrator JWTs (repeatable)");
  serve->add_option("--admin-jwt-jwks-uri", admin_jwt.jwks_uri,
                    "JWKS URL of the administrator issuer; default: from its discovery document");
  serve->add_option("--admin-jwt-role-claim", admin_jwt.role_claim,
                    "Claim of administrator JWTs that names the role: reader, operator or admin "
                    "(default roles)");
  serve->add_option("--admin-jwt-portal-client-id", admin_jwt.portal_client_id,
                    "Client id of the web portal at the administrator issuer; enables \"Sign in "
                    "with OpenID Connect\" (the ID token's audience, so also an --admin-jwt-audience)");
  serve->add_option("--admin-jwt-portal-redirect-url", admin_jwt.portal_redirect_url,
                    "The management listener's /portal/oidc/callback URL as browsers reach it");
  serve->add_option("--admin-jwt-portal-scopes", admin_jwt.portal_scopes,
                    "Space-separated scopes of the portal sign-in (default \"openid profile\")");
  serve->add_option("--post-login-redirect-allow", redirect_allow,
                    "URL a finished login may redirect the browser to (repeatable)");
  serve->add_option("--log-format", config.log_format, "Log line format: text or json");
  serve->add_option("--log-level", config.log_level,
                    "Minimum log level: trace, debug, info, warn, error");
  serve->add_option("--threads", config.threads, "I/O threads; 0 means one per CPU core")
      ->check(CLI::Range(0, 256));
  serve->add_option("--drain-timeout", config.drain_timeout_seconds,
                    "Seconds SIGTERM waits for in-flight requests before stopping")
      ->check(CLI::Range(0, 3600));
  serve->add_option("--refresh-margin", config.refresh_margin_seconds,
                    "Seconds before expiry at which an access token is refreshed")
      ->check(CLI::Range(0, 3600));
  serve->add_option("--default-token-lifetime", config.default_token_lifetime_seconds,
                    "Seconds an access token without expires_in is assumed to live: one with a "
                    "refresh token is refreshed at that age; 0 never refreshes it ahead")
      ->check(CLI::Range(0, 366 * 24 * 3600));

  serve->add_option("--max-refresh-rate", config.max_refresh_rate,
                    "Most background token refreshes started per second, across all providers")
      ->check(CLI::Range(1, credgate::app::kMaxRefreshRateUpperBound));

  serve->add_option("--store", config.store_url,
                    "Store: sqlite:<path>, or postgresql://user@host:port/database for a cluster "
                    "of gateways on one database (default sqlite:<data-dir>/credgate.db)");
  serve->add_option("--instance-id", config.instance_id,
                    "Name under which this gateway holds refresh leases; unique in a cluster "
                    "(default <host name>-<process id>)");
  serve->add_option("--refresh-lease-ttl", config.refresh_lease_ttl_seconds,
                    "Seconds a refresh lease lasts; must exceed the slowest token response")
      ->check(CLI::Range(1, 3600));
  serve->add_option("--reconcile-interval", config.reconcile_interval_seconds,
                    "Seconds between full comparisons of memory with a shared store")
      ->check(CLI::Range(1, 3600));
  credgate::app::AdminCliTarget target;
  auto add_target_options = [&target](CLI::App* command) {
    command->add_option("--data-dir", target.data_dir,
                        "Data directory of credgate serve, used when no --management-url is "
                        "given (default ./credgate-data)");
    command->add_option("--management-url", target.management_url,
                        "Base URL of a running server's management API, for example "
                        "http://127.0.0.1:8081");
    command->add_option("--admin-key-file", target.admin_key_file,
                        "File with the admin key for --management-url; default "
                        "CREDGATE_ADMIN_KEY, then <data-dir>/admin.key");
  };
  CLI::App* admin_key = app.add_subcommand("admin-key", "Create, revoke and list admin keys");
  admin_key->require_subcommand(1);
  std::string key_id;
  std::string key_role;
  CLI::App* key_create = admin_key->add_subcommand(
      "create", "Create an admin key and print it once on standard output");
  key_create->add_option("--id", key_id, "Id of the new key: letters, digits, '.', '_', '-'")
      ->required();
  key_create->add_option("--role", key_role, "Role of the new key: reader, operator or admin")
      ->required();
  add_target_options(key_create);
  CLI::App* key_revoke = admin_key->add_subcommand("revoke", "Revoke an admin key at once");
  key_revoke->add_option("id", key_id, "Id of the key to revoke")->required();
  add_target_options(key_revoke);
  CLI::App* key_list = admin_key->add_subcommand("list", "List the stored admin keys");
  add_target_options(key_list);

  CLI::App* keys = app.add_subcommand("keys", "Master key operations");
  keys->require_subcommand(1);
  CLI::App* rewrap = keys->add_subcommand(
      "rewrap", "Rewrap every sealed record under the active master key");
  add_target_options(rewrap);
  std::string rewrap_key_command;
  rewrap->add_option("--master-key-file", target.master_key_file,
                     "Without --management-url: the master key file (default "
                     "<data-dir>/master.key unless CREDGATE_MASTER_KEY is set)");
  rewrap->add_option("--master-key-command", rewrap_key_command,
                     "Without --management-url: program whose standard output is the master "
                     "key text, split on spaces into the program and its arguments");

  credgate::app::ResourceCommands resource_commands(app);
  credgate::app::TransferCommands transfer_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help exits 0; every invalid command line exits 2, as an invalid value does.
    return app.exit(error) == 0 ? 0 : 2;
  }

  if (auto status = resource_commands.Run()) return *status;
  if (auto status = transfer_commands.Run()) return *status;

  if (key_create->parsed()) return credgate::app::RunAdminKeyCreate(target, key_id, key_role);
  if (key_revoke->parsed()) return credgate::app::RunAdminKeyRevoke(target, key_id);
  if (key_list->parsed()) return credgate::app::RunAdminKeyList(target);
  if (rewrap->parsed()) {
    target.master_key_command = credgate::crypto::SplitCommandLine(rewrap_key_command);
    return credgate::app::RunKeysRewrap(target);
  }

  if (serve->parsed()) {
    // The file is read first and the flags then applied over it, so that a flag always wins.
    credgate::app::ServeConfig merged;
    if (!config_file.empty()) {
      auto loaded = credgate::app::LoadConfigFile(config_file, merged);
      if (!loaded.ok()) {
        std::fprintf(stderr, "credgate: %s\n", loaded.error().message.c_str());
        return 2;
      }
    }
    if (serve->count("--public-url")) merged.public_url = config.public_url;
    if (serve->count("--gateway-tls-cert")) {
      merged.gateway_tls.certificate_file = config.gateway_tls.certificate_file;
    }
    if (serve->count("--gateway-tls-key")) {
      merged.gateway_tls.key_file = config.gateway_tls.key_file;
    }
    if (serve->count("--management-tls-cert")) {
      merged.management_tls.certificate_file = config.management_tls.certificate_file;
    }
    if (serve->count("--management-tls-key")) {
      merged.management_tls.key_file = config.management_tls.key_file;
    }
    if (serve->count("--backend-ca-file")) merged.backend_ca_file = config.backend_ca_file;
    if (serve->count("--data-dir")) merged.data_dir = config.data_dir;
    if (serve->count("--master-key-file")) merged.master_key_file = config.master_key_file;
    if (serve->count("--master-key-command")) {
      merged.master_key_command = credgate::crypto::SplitCommandLine(master_key_command);
    }
    if (serve->count("--master-key-command-timeout")) {
      merged.master_key_command_timeout_seconds = config.master_key_command_timeout_seconds;
    }
    if (serve->count("--audit-log")) merged.audit_log = config.audit_log;
    if (serve->count("--admin-auth-failure-limit")) {
      merged.admin_auth_failure_limit = config.admin_auth_failure_limit;
    }
    if (serve->count("--admin-auth-failure-window")) {
      merged.admin_auth_failure_window_seconds = config.admin_auth_failure_window_seconds;
    }
    const bool admin_jwt_flags = serve->count("--admin-jwt-audience") ||
                                 serve->count("--admin-jwt-jwks-uri") ||
                                 serve->count("--admin-jwt-role-claim") ||
                                 serve->count("--admin-jwt-portal-client-id") ||
                                 serve->count("--admin-jwt-portal-redirect-url") ||
                                 serve->count("--admin-jwt-portal-scopes");
    if (serve->count("--admin-jwt-issuer")) {
      merged.admin_jwt = admin_jwt;
    } else if (admin_jwt_flags && !merged.admin_jwt) {
      std::fprintf(stderr,
                   "credgate: the --admin-jwt-* options need --admin-jwt-issuer or adminJwt in "
                   "the config file\n");
      return 2;
    } else if (merged.admin_jwt) {
      if (serve->count("--admin-jwt-audience")) merged.admin_jwt->audiences = admin_jwt.audiences;
      if (serve->count("--admin-jwt-jwks-uri")) merged.admin_jwt->jwks_uri = admin_jwt.jwks_uri;
      if (serve->count("--admin-jwt-role-claim")) {
        merged.admin_jwt->role_claim = admin_jwt.role_claim;
      }
      if (serve->count("--admin-jwt-portal-client-id")) {
        merged.admin_jwt->portal_client_id = admin_jwt.portal_client_id;
      }
      if (serve->count("--admin-jwt-portal-redirect-url")) {
        merged.admin_jwt->portal_redirect_url = admin_jwt.portal_redirect_url;
      }
      if (serve->count("--admin-jwt-portal-scopes")) {
        merged.admin_jwt->portal_scopes = admin_jwt.portal_scopes;
      }
    }
    // The command line names no secret, so that it stays out of the process list.
    if (const char* secret = std::getenv("CREDGATE_ADMIN_JWT_PORTAL_CLIENT_SECRET");
        secret != nullptr && *secret != '\0' && merged.admin_jwt &&
        merged.admin_jwt->portal_client_secret.empty()) {
      merged.admin_jwt->portal_client_secret = credgate::Secret(secret);
    }
    if (serve->count("--log-format")) merged.log_format = config.log_format;
    if (serve->count("--log-level")) merged.log_level = config.log_level;
    if (serve->count("--threads")) merged.threads = config.threads;
    if (serve->count("--drain-timeout")) merged.drain_timeout_seconds = config.drain_timeout_seconds;
    if (serve->count("--refresh-margin")) {
      merged.refresh_margin_seconds = config.refresh_margin_seconds;
    }
    if (serve->count("--default-token-lifetime")) {
      merged.default_token_lifetime_seconds = config.default_token_lifetime_seconds;
    }
    if (serve->count("--max-refresh-rate")) merged.max_refresh_rate = config.max_refresh_rate;
    if (serve->count("--store")) merged.store_url = config.store_url;
    if (serve->count("--instance-id")) merged.instance_id = config.instance_id;
    if (serve->count("--refresh-lease-ttl")) {
      merged.refresh_lease_ttl_seconds = config.refresh_lease_ttl_seconds;
    }
    if (serve->count("--reconcile-interval")) {
      merged.reconcile_interval_seconds = config.reconcile_interval_seconds;
    }
    for (const auto& url : redirect_allow) merged.post_login_redirect_allow.push_back(url);
    for (auto [flag, text, target] :
         {std::tuple{"--gateway-listen", &gateway_listen, &merged.gateway_listen},
          std::tuple{"--management-listen", &management_listen, &merged.management_listen}}) {
      if (text->empty()) continue;
      auto address = credgate::app::ParseListenAddress(*text, flag);
      if (!address.ok()) {
        std::fprintf(stderr, "credgate: %s\n", address.error().message.c_str());
        return 2;
      }
      *target = *address;
    }
    auto finalized = credgate::app::FinalizeConfig(merged);
    if (!finalized.ok()) {
      std::fprintf(stderr, "credgate: %s\n", finalized.error().message.c_str());
      return 2;
    }
    return credgate::app::RunServe(merged);
  }
  return 0;
}
