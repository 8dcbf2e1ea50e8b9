// credgate: an API gateway with a built-in OAuth credential manager.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "app/config.h"
#include "app/serve.h"

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
  serve->add_option("--public-url", config.public_url,
                    "Base URL at which browsers and callers reach the gateway; the OAuth redirect "
                    "URL is <public-url>/.credgate/callback");
  serve->add_option("--data-dir", config.data_dir,
                    "Directory of the SQLite database, the generated master key and admin key");
  serve->add_option("--master-key-file", config.master_key_file,
                    "Master key file (lines id:base64-key, mode 0600); default "
                    "<data-dir>/master.key, generated on first start unless CREDGATE_MASTER_KEY "
                    "is set");
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

  CLI11_PARSE(app, argc, argv);

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
    if (serve->count("--data-dir")) merged.data_dir = config.data_dir;
    if (serve->count("--master-key-file")) merged.master_key_file = config.master_key_file;
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
