#include "app/serve.h"


#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http/field.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <thread>

#include "app/logging.h"
#include "app/metrics_page.h"
#include "app/portal_oidc.h"
#include "app/portal_page.h"
#include "common/allocator.h"
#include "credentials/consent_codes.h"
#include "credentials/login_sessions.h"
#include "credentials/refresh_scheduler.h"
#include "credentials/token_client.h"
#include "credentials/token_manager.h"
#include "crypto/key_file.h"
#include "events/event_log.h"
#include "events/webhook_dispatcher.h"
#include "gateway/gateway.h"
#include "gateway/login_flow.h"
#include "http/buffered.h"
#include "http/pooled_client.h"
#include "http/proxy.h"
#include "http/server.h"
#include "http/server_tls.h"
#include "identity/validator.h"
#include "management/admin_keys.h"
#include "management/cluster_sync.h"
#include "management/openapi.h"
#include "management/persistence.h"
#include "management/service.h"
#include "management/test_console.h"
#include "management/token_persistence.h"
#include "runtime/audit_log.h"
#include "store/async_store.h"
#include "policy/trace.h"
#include "store/open_store.h"

namespace credgate::app {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

Status EnsureDataDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) return OkStatus();
    return MakeError(ErrorCode::kInvalidArgument,
                     "data directory '" + path + "' exists but is not a directory");
  }
  return MakeError(ErrorCode::kUnavailable, "cannot create data directory '" + path +
                                                "': " + std::strerror(errno));
}

Result<asio::ip::tcp::endpoint> ToEndpoint(const ListenAddress& address, std::string_view flag) {
  std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
  boost::system::error_code error;
  auto ip = asio::ip::make_address(host, error);
  if (error) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid " + std::string(flag) + " host '" + address.host +
                         "': use a numeric IPv4 or IPv6 address");
  }
  return asio::ip::tcp::endpoint(ip, address.port);
}

// The management listener's request body limit: room for an import document (POST /import),
// which carries every resource and policy of an instance.
constexpr size_t kManagementMaxBodyBytes = 16 << 20;
// How long webhook attempts in flight may take to finish at shutdown; the rest stay in the
// outbox for the next start.
constexpr std::chrono::seconds kWebhookShutdownGrace{2};

http::Response JsonResponse(int status, std::string body, unsigned version) {
  http::Response response{static_cast<bhttp::status>(status), version};
  response.set(bhttp::field::content_type, "application/json; charset=utf-8");
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::string Describe(const asio::ip::tcp::endpoint& endpoint) {
  std::string host = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

// Returns the URL at which this process reaches its own gateway listener: the bound address,
// or the loopback address of its family when it listens on every address.
// NOTE: with TLS on the gateway listener, the test console's requests verify the gateway's
// certificate like any backend's, so it must be valid for this address and trusted by the
// system store or backendCaFile.
std::string LocalGatewayUrl(asio::ip::tcp::endpoint endpoint, bool tls) {
  if (endpoint.address().is_unspecified()) {
    endpoint.address(endpoint.address().is_v6()
                         ? asio::ip::address(asio::ip::address_v6::loopback())
                         : asio::ip::address(asio::ip::address_v4::loopback()));
  }
  return (tls ? "https://" : "http://") + Describe(endpoint);
}

// Everything a running server owns, in construction order; destroyed in reverse.
struct Process {
  OpenSslRandom random;
  SystemClock clock;
  std::vector<std::unique_ptr<asio::io_context>> io_contexts;
  std::optional<crypto::Keyring> keyring;
  std::unique_ptr<runtime::AuditLog> audit;
  std::unique_ptr<store::AsyncStore> store;
  std::unique_ptr<store::ChangeFeed> change_feed;  // Null unless the store is shared.
  runtime::ConfigState config;
  runtime::ConnectionStatusTable statuses;
  std::shared_ptr<http::PooledHttpClient> http_client;
  std::unique_ptr<http::UpstreamPool> upstreams;
  std::unique_ptr<events::WebhookDispatcher> webhooks;  // Null without configured webhooks.
  std::unique_ptr<events::EventLog> event_log;
  std::unique_ptr<identity::JwtValidator> validator;
  std::unique_ptr<credentials::TokenClient> token_client;
  std::unique_ptr<credentials::LoginSessions> login_sessions;
  std::unique_ptr<credentials::ConsentCodes> consent_codes;
  std::unique_ptr<policy::TraceRegistry> traces;
  runtime::Services services;
  std::unique_ptr<management::StoreTokenPersistence> persistence;
  std::unique_ptr<credentials::TokenManager> tokens;
  std::unique_ptr<credentials::RefreshScheduler> refresh_scheduler;
  management::AdminKeys admin_keys;
  std::unique_ptr<management::AdminJwtAuthenticator> admin_jwt;
  std::unique_ptr<PortalOidc> portal_oidc;  // Null unless adminJwt.portalClientId is set.
  std::unique_ptr<management::ManagementService> management;
  std::unique_ptr<gateway::LoginFlow> login_flow;
  std::unique_ptr<gateway::Gateway> gateway;
  std::unique_ptr<management::TestConsole> test_console;
  std::unique_ptr<management::ClusterSync> cluster_sync;
  std::shared_ptr<http::ServerTls> management_tls;  // Null for plain HTTP.
  std::shared_ptr<http::ServerTls> gateway_tls;     // Null for plain HTTP. Every gateway server shares it.
  std::unique_ptr<http::HttpServer> management_server;
  std::vector<std::unique_ptr<http::HttpServer>> gateway_servers;
};

Status Start(const ServeConfig& config, Process& p) {
  CREDGATE_RETURN_IF_ERROR(EnsureDataDirectory(config.data_dir));

  crypto::KeyringOptions key_options;
  key_options.env_value = crypto::MasterKeyFromEnv();
  key_options.key_file = config.master_key_file;
  key_options.key_command.argv = config.master_key_command;
  key_options.key_command.timeout = std::chrono::seconds(config.master_key_command_timeout_seconds);
  if (!key_options.env_value && config.master_key_file.empty() &&
      config.master_key_command.empty()) {
    key_options.generated_key_file = config.data_dir + "/master.key";
  }
  auto loaded = crypto::LoadKeyring(key_options, p.random);
  if (!loaded.ok()) return loaded.error();
  switch (loaded->source) {
    case crypto::KeySource::kEnvironment:
      spdlog::info("master key loaded from CREDGATE_MASTER_KEY active_key={}",
                   loaded->keyring.active_key_id());
      break;
    case crypto::KeySource::kKeyFile:
      spdlog::info("master key loaded path={} active_key={}", loaded->path,
                   loaded->keyring.active_key_id());
      break;
    case crypto::KeySource::kCommand:
      spdlog::info("master key loaded from command program={} active_key={} keys={}",
                   loaded->path, loaded->keyring.active_key_id(),
                   loaded->keyring.key_ids().size());
      break;
    case crypto::KeySource::kGeneratedKeyFile:
      spdlog::warn("generated a new master key path={}: back it up, because no stored token or "
                   "secret can be decrypted without it",
                   loaded->path);
      break;
  }
  p.keyring.emplace(std::move(loaded->keyring));

  auto audit = runtime::AuditLog::Open(config.audit_log, p.clock);
  if (!audit.ok()) return audit.error();
  p.audit = std::move(*audit);
  spdlog::info("audit log opened path={}", config.audit_log);

  auto opened = store::OpenStore(config.store_url);
  if (!opened.ok()) return opened.error();
  spdlog::info("store opened store={} instance_id={}", store::RedactStoreUrl(config.store_url),
               config.instance_id);
  p.store = std::make_unique<store::AsyncStore>(std::move(*opened));
  auto feed = store::OpenChangeFeed(config.store_url);
  if (!feed.ok()) return feed.error();
  p.change_feed = std::move(*feed);

  http::ClientOptions client_options;
  client_options.ca_file = config.backend_ca_file;
  auto http_client = http::PooledHttpClient::Create(client_options);
  if (!http_client.ok()) return http_client.error();
  p.http_client = std::move(*http_client);
  http::UpstreamOptions upstream_options;
  upstream_options.ca_file = config.backend_ca_file;
  auto upstreams = http::UpstreamPool::Create(upstream_options);
  if (!upstreams.ok()) return upstreams.error();
  p.upstreams = std::move(*upstreams);

  if (!config.webhooks.empty()) {
    std::vector<events::WebhookTarget> targets;
    for (const WebhookConfig& webhook : config.webhooks) {
      targets.push_back(events::WebhookTarget{webhook.url, webhook.secret});
      spdlog::info("webhook configured webhook={}", events::WebhookOrigin(webhook.url));
    }
    events::WebhookDispatcher::Options webhook_options;
    webhook_options.retry.max_attempts = config.webhook_max_attempts;
    webhook_options.holder = config.instance_id;
    p.webhooks = std::make_unique<events::WebhookDispatcher>(p.io_contexts[0]->get_executor(),
                                                             *p.store, *p.http_client, p.clock,
                                                             std::move(targets), webhook_options);
  }
  events::EventLog::Options event_options;
  event_options.retain = config.event_retention;
  p.event_log =
      std::make_unique<events::EventLog>(*p.store, p.clock, p.webhooks.get(), event_options);

  p.validator = std::make_unique<identity::JwtValidator>(
      p.http_client, std::shared_ptr<const Clock>(&p.clock, [](const Clock*) {}));
  p.token_client = std::make_unique<credentials::TokenClient>(*p.http_client, p.clock);
  p.login_sessions = std::make_unique<credentials::LoginSessions>(p.clock, p.random);
  p.consent_codes = std::make_unique<credentials::ConsentCodes>(p.clock, p.random);
  p.traces = std::make_unique<policy::TraceRegistry>(p.random);

  p.services.settings.public_url = config.public_url;
  p.services.settings.post_login_redirect_allow = config.post_login_redirect_allow;
  p.services.settings.instance_id = config.instance_id;
  p.services.settings.dapr_sidecar_url = config.dapr_sidecar_url;
  p.services.settings.refresh_lease_ttl = std::chrono::seconds(config.refresh_lease_ttl_seconds);
  if (config.managed_identity) {
    p.services.settings.managed_identity =
        std::pair(config.managed_identity->tenant_id, config.managed_identity->object_id);
    p.services.settings.managed_identity_token_provider = config.managed_identity->token_provider;
    p.services.settings.managed_identity_resource_parameter =
        config.managed_identity->resource_parameter;
    p.services.settings.managed_identity_user_assigned = config.managed_identity->user_assigned;
  }
  p.services.clock = &p.clock;
  p.services.config = &p.config;
  p.services.statuses = &p.statuses;
  p.services.store = p.store.get();
  p.services.keyring = &*p.keyring;
  p.services.login_sessions = p.login_sessions.get();
  p.services.consent_codes = p.consent_codes.get();
  p.services.token_client = p.token_client.get();
  p.services.validator = p.validator.get();
  p.services.http_client = p.http_client.get();
  p.services.audit = p.audit.get();
  p.services.event_log = p.event_log.get();

  p.persistence = std::make_unique<management::StoreTokenPersistence>(p.services);
  credentials::TokenManager::Options token_options;
  token_options.timing.refresh_margin = std::chrono::seconds(config.refresh_margin_seconds);
  token_options.timing.default_token_lifetime =
      std::chrono::seconds(config.default_token_lifetime_seconds);
  if (const char* point = std::getenv("CREDGATE_FAULT_PAUSE"); point != nullptr && *point) {
    token_options.fault_pause_point = point;
    spdlog::warn("fault injection is on: token refreshes stall at {}", point);
  }
  p.tokens = std::make_unique<credentials::TokenManager>(*p.token_client, *p.persistence, p.clock,
                                                         p.random, token_options);
  p.services.tokens = p.tokens.get();
  p.statuses.ReadConnectedFromTokens(p.tokens.get());
  // One io_context runs every scheduled refresh, so the scheduler needs no lock.
  credentials::RefreshScheduler::Options scheduler_options;
  scheduler_options.max_refresh_rate = config.max_refresh_rate;
  p.refresh_scheduler = std::make_unique<credentials::RefreshScheduler>(
      p.io_contexts[0]->get_executor(), *p.tokens, p.clock, p.random, scheduler_options);

  // Start-up load: blocking is fine here, nothing is served yet. Policies that name a
  // user-assigned identity are checked against the configured ones, so those come first.
  CREDGATE_RETURN_IF_ERROR(p.config.Update([&p](runtime::Snapshot& next) {
    for (const auto& [client_id, provider] : p.services.settings.managed_identity_user_assigned) {
      next.managed_identity_client_ids.insert(client_id);
    }
    return OkStatus();
  }));
  store::Store& blocking = p.store->blocking_store();
  CREDGATE_RETURN_IF_ERROR(management::LoadFromStore(blocking, p.services));
  CREDGATE_RETURN_IF_ERROR(management::LoadTokensFromStore(blocking, p.services));
  // The loads read every stored row at once and freed the rows afterwards. glibc keeps such
  // freed pages in the process until it is asked to return them: bench/scale_bench.sh measured
  // them at a tenth to a third of the resident memory after the load.
  ReleaseFreedMemory();
  spdlog::info("configuration and tokens loaded allocator=\"{}\" heap_bytes={}", AllocatorName(),
               HeapBytes());

  bool generated = false;
  auto bootstrap = management::LoadOrCreateBootstrapAdminKey(config.data_dir, generated);
  if (!bootstrap.ok()) return bootstrap.error();
  p.admin_keys.Add(*bootstrap);
  if (generated) {
    spdlog::warn("generated the bootstrap admin key path={}/admin.key", config.data_dir);
  }
  auto stored_keys = blocking.ListAdminKeys();
  if (!stored_keys.ok()) return stored_keys.error();
  spdlog::info("admin keys stored count={}", stored_keys->size());

  if (p.change_feed != nullptr) {
    management::ClusterSync::Options sync_options;
    sync_options.reconcile_interval = std::chrono::seconds(config.reconcile_interval_seconds);
    p.cluster_sync = std::make_unique<management::ClusterSync>(
        p.services, *p.change_feed, p.io_contexts[0]->get_executor(), sync_options);
    CREDGATE_RETURN_IF_ERROR(p.cluster_sync->Start(blocking));
  }

  management::ManagementSecurityOptions security;
  security.auth_failure_limits.max_failures =
      static_cast<size_t>(config.admin_auth_failure_limit);
  security.auth_failure_limits.window =
      std::chrono::seconds(config.admin_auth_failure_window_seconds);
  if (config.admin_jwt) {
    management::AdminJwtSettings settings;
    settings.issuer.id = "administrators";
    settings.issuer.issuer = config.admin_jwt->issuer;
    settings.issuer.audiences = config.admin_jwt->audiences;
    if (!config.admin_jwt->jwks_uri.empty()) settings.issuer.jwks_uri = config.admin_jwt->jwks_uri;
    settings.role_claim = config.admin_jwt->role_claim;
    auto admin_jwt = management::AdminJwtAuthenticator::Create(
        std::move(settings), p.http_client,
        std::shared_ptr<const Clock>(&p.clock, [](const Clock*) {}));
    if (!admin_jwt.ok()) return admin_jwt.error();
    p.admin_jwt = std::move(*admin_jwt);
    security.admin_jwt = p.admin_jwt.get();
    spdlog::info("administrator JWTs accepted issuer={} role_claim={}", config.admin_jwt->issuer,
                 config.admin_jwt->role_claim);
    if (config.admin_jwt->portal_enabled()) {
      PortalOidcSettings portal;
      portal.issuer = config.admin_jwt->issuer;
      portal.client_id = config.admin_jwt->portal_client_id;
      portal.client_secret = config.admin_jwt->portal_client_secret;
      portal.redirect_url = config.admin_jwt->portal_redirect_url;
      portal.scopes = config.admin_jwt->portal_scopes;
      portal.secure_cookies = config.management_tls.enabled();
      p.portal_oidc = std::make_unique<PortalOidc>(std::move(portal), *p.http_client,
                                                   *p.admin_jwt, p.clock, p.random);
      spdlog::info("portal OpenID Connect sign-in enabled client_id={} redirect_url={} "
                   "confidential_client={}",
                   config.admin_jwt->portal_client_id, config.admin_jwt->portal_redirect_url,
                   !config.admin_jwt->portal_client_secret.empty());
    }
  }
  p.management =
      std::make_unique<management::ManagementService>(p.services, p.admin_keys, security);
  p.login_flow = std::make_unique<gateway::LoginFlow>(p.services, *p.persistence);
  p.gateway =
      std::make_unique<gateway::Gateway>(p.services, *p.login_flow, *p.upstreams, p.traces.get());
  return OkStatus();
}

Status ApplyDeclaredResources(const ServeConfig& config, Process& p) {
  size_t changed = 0;
  for (const auto& resource : config.resources) {
    // use_future needs a default-constructible result, which Result<bool> is not.
    bool stored = false;
    auto apply = [&]() -> asio::awaitable<Status> {
      auto applied = co_await p.management->ApplyDeclared(resource.path, resource.body_json);
      if (!applied.ok()) co_return applied.error();
      stored = *applied;
      co_return OkStatus();
    };
    Status status = asio::co_spawn(*p.io_contexts[0], apply(), asio::use_future).get();
    if (!status.ok()) return status;
    if (stored) ++changed;
  }
  if (!config.resources.empty()) {
    spdlog::info("declared resources applied count={} changed={} unchanged={}",
                 config.resources.size(), changed, config.resources.size() - changed);
  }
  return OkStatus();
}

// Loads the certificate and key of a listener with TLS, or returns null for a plain one.
Result<std::shared_ptr<http::ServerTls>> LoadListenerTls(const ListenerTls& files,
                                                         std::string_view listener) {
  if (!files.enabled()) return std::shared_ptr<http::ServerTls>();
  auto tls = http::ServerTls::Load(files.certificate_file, files.key_file);
  if (!tls.ok()) {
    return MakeError(tls.error().code, std::string(listener) + " listener: " + tls.error().message);
  }
  spdlog::info("TLS certificate loaded listener={} file={} {}", listener, files.certificate_file,
               http::DescribeServerCertificate(*(*tls)->Current()));
  return std::move(*tls);
}

// Reloads the certificate and key of a listener with TLS, and does nothing for a null `tls`.
void ReloadListenerTls(http::ServerTls* tls, std::string_view listener) {
  if (tls == nullptr) return;
  Status reloaded = tls->Reload();
  if (!reloaded.ok()) {
    spdlog::error("TLS reload failed listener={}: {}; the previous certificate stays in use",
                  listener, reloaded.error().message);
    return;
  }
  spdlog::info("TLS certificate reloaded listener={} file={} {}", listener, tls->certificate_file(),
               http::DescribeServerCertificate(*tls->Current()));
}

// Reloads every listener's TLS certificate and key on each SIGHUP until `signals` is cancelled
// or destroyed.
asio::awaitable<void> ReloadOnHangup(asio::signal_set& signals, Process& p) {
  for (;;) {
    auto [ec, signal] = co_await signals.async_wait(kNoThrow);
    if (ec) co_return;
    if (!p.gateway_tls && !p.management_tls) {
      spdlog::info("SIGHUP received; no listener has TLS, so nothing was reloaded");
      continue;
    }
    ReloadListenerTls(p.gateway_tls.get(), "gateway");
    ReloadListenerTls(p.management_tls.get(), "management");
  }
}

Status StartListeners(const ServeConfig& config, Process& p) {
  auto management_tls = LoadListenerTls(config.management_tls, "management");
  if (!management_tls.ok()) return management_tls.error();
  p.management_tls = std::move(*management_tls);
  auto gateway_tls = LoadListenerTls(config.gateway_tls, "gateway");
  if (!gateway_tls.ok()) return gateway_tls.error();
  p.gateway_tls = std::move(*gateway_tls);

  auto management_endpoint = ToEndpoint(config.management_listen, "management listen");
  if (!management_endpoint.ok()) return management_endpoint.error();
  auto gateway_endpoint = ToEndpoint(config.gateway_listen, "gateway listen");
  if (!gateway_endpoint.ok()) return gateway_endpoint.error();

  management::ManagementService* management = p.management.get();
  MetricsSources sources;
  sources.gateway = p.gateway.get();
  sources.login_flow = p.login_flow.get();
  sources.validator = p.validator.get();
  sources.tokens = p.tokens.get();
  sources.refresh_scheduler = p.refresh_scheduler.get();
  sources.consent_codes = p.consent_codes.get();
  sources.management = p.management.get();
  sources.cluster_sync = p.cluster_sync.get();
  sources.config = &p.config;
  sources.statuses = &p.statuses;
  sources.gateway_tls = p.gateway_tls.get();
  sources.management_tls = p.management_tls.get();
  sources.event_log = p.event_log.get();
  sources.webhooks = p.webhooks.get();
  sources.store = p.store.get();
  sources.portal_oidc = p.portal_oidc.get();
  PortalOidc* portal_oidc = p.portal_oidc.get();
  auto handler = http::MakeBufferedHandler(
      [management, sources, portal_oidc](
          http::Request&& request,
          const http::RequestInfo& info) -> asio::awaitable<http::Response> {
        std::string_view target = request.target();
        // The unauthenticated paths match with any query string, as the resource paths do.
        std::string_view path = target.substr(0, target.find('?'));
        if (request.method() == bhttp::verb::get && (path == "/healthz" || path == "/readyz")) {
          co_return JsonResponse(200, "{\"status\":\"ok\"}", request.version());
        }
        if (request.method() == bhttp::verb::get && path == "/metrics") {
          http::Response response{bhttp::status::ok, request.version()};
          response.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
          response.body() = RenderMetrics(sources);
          response.prepare_payload();
          co_return response;
        }
        if (path.starts_with(kPortalOidcPathPrefix)) {
          if (portal_oidc == nullptr) co_return PortalOidcNotConfigured(request);
          co_return co_await portal_oidc->Handle(request, info.request_id);
        }
        if (auto portal = PortalResponse(request.method(), path, request.version())) {
          co_return std::move(*portal);
        }
        if (request.method() == bhttp::verb::get && path == "/openapi.json") {
          co_return JsonResponse(200, std::string(management::OpenApiDocument()),
                                 request.version());
        }
        management::ManagementRequest call;
        call.method = std::string(request.method_string());
        call.target = std::string(target);
        call.authorization = std::string(request[bhttp::field::authorization]);
        if (portal_oidc != nullptr && call.authorization.empty()) {
          // A portal user signed in with OpenID Connect presents the session's ID token.
          auto session = portal_oidc->SessionCredential(request);
          if (!session.ok()) {
            spdlog::warn("management request with a portal session cookie rejected request_id={} "
                         "client={} method={} path={}: {}",
                         info.request_id, info.peer.address().to_string(),
                         request.method_string(), path, session.error().message);
            co_return JsonResponse(HttpStatusFor(session.error().code),
                                   management::RenderError(session.error()), request.version());
          }
          if (*session) call.authorization = "Bearer " + std::string((*session)->Expose());
        }
        call.body = std::move(request.body());
        call.client_address = info.peer.address().to_string();
        call.request_id = info.request_id;
        auto result = co_await management->Handle(std::move(call));
        if (result.status == 204) {
          http::Response response{bhttp::status::no_content, request.version()};
          co_return response;
        }
        http::Response response =
            JsonResponse(result.status, std::move(result.body), request.version());
        if (result.retry_after_seconds > 0) {
          response.set(bhttp::field::retry_after, std::to_string(result.retry_after_seconds));
        }
        co_return response;
      },
      kManagementMaxBodyBytes);
  gateway::Gateway* gateway = p.gateway.get();
  http::StreamingHandler gateway_handler =
      [gateway](http::ServerExchange& exchange) -> asio::awaitable<void> {
    co_await gateway->Handle(exchange);
  };
  // One listener on the first io_context hands the connections to every io_context in turn.
  http::ServerOptions options;
  options.endpoint = *gateway_endpoint;
  options.single_thread = true;
  options.tls = p.gateway_tls;
  for (auto& io : p.io_contexts) options.connection_contexts.push_back(io.get());
  auto server = std::make_unique<http::HttpServer>(*p.io_contexts[0], options, gateway_handler);
  auto gateway_bound = server->Start();
  if (!gateway_bound.ok()) return gateway_bound.error();
  *gateway_endpoint = *gateway_bound;
  p.gateway_servers.push_back(std::move(server));
  spdlog::info("gateway listening address={} tls={} public_url={} threads={}",
               Describe(*gateway_endpoint), p.gateway_tls != nullptr, config.public_url,
               p.io_contexts.size());

  // The gateway listens first, so that the test console gets the gateway's bound address.
  p.test_console = std::make_unique<management::TestConsole>(
      *p.http_client, *p.traces, LocalGatewayUrl(*gateway_endpoint, p.gateway_tls != nullptr));
  p.management->set_test_console(p.test_console.get());
  // RunServe() runs each io_context on exactly one thread.
  http::ServerOptions management_options;
  management_options.endpoint = *management_endpoint;
  management_options.single_thread = true;
  management_options.tls = p.management_tls;
  p.management_server =
      std::make_unique<http::HttpServer>(*p.io_contexts[0], management_options, handler);
  auto bound = p.management_server->Start();
  if (!bound.ok()) return bound.error();
  spdlog::info("management API listening address={} tls={}", Describe(*bound),
               p.management_tls != nullptr);

  return OkStatus();
}

}  // namespace

int RunServe(const ServeConfig& config) {
  auto format = ParseLogFormat(config.log_format);
  if (!format.ok()) {
    std::fprintf(stderr, "credgate: %s\n", format.error().message.c_str());
    return 2;
  }
  Status logging = InitLogging(*format, config.log_level);
  if (!logging.ok()) {
    std::fprintf(stderr, "credgate: %s\n", logging.error().message.c_str());
    return 2;
  }

  Process p;
  size_t threads = config.threads > 0 ? static_cast<size_t>(config.threads)
                                      : std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < threads; ++i) {
    p.io_contexts.push_back(std::make_unique<asio::io_context>(1));
  }
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  for (auto& io : p.io_contexts) work.push_back(asio::make_work_guard(*io));
  std::vector<std::thread> runners;
  for (auto& io : p.io_contexts) runners.emplace_back([&io] { io->run(); });

  // Registered before start-up, so that a SIGHUP from then on is queued for ReloadOnHangup()
  // instead of ending the process.
  asio::signal_set hangup_signals(*p.io_contexts[0], SIGHUP);

  auto stop_all = [&] {
    work.clear();
    for (auto& io : p.io_contexts) io->stop();
    for (auto& runner : runners) runner.join();
  };

  Status started = Start(config, p);
  if (started.ok()) started = ApplyDeclaredResources(config, p);
  if (started.ok()) started = StartListeners(config, p);
  if (!started.ok()) {
    spdlog::critical("credgate failed to start: {}", started.error().message);
    stop_all();
    return 1;
  }
  p.refresh_scheduler->Start();
  if (p.webhooks) p.webhooks->Start();
  asio::co_spawn(*p.io_contexts[0], ReloadOnHangup(hangup_signals, p), asio::detached);

  // Waits for SIGTERM or SIGINT, then drains on the first io_context.
  std::promise<void> stopped;
  asio::signal_set signals(*p.io_contexts[0], SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::info("stopping signal={} drain_timeout_seconds={}", signal,
                 config.drain_timeout_seconds);
    p.refresh_scheduler->Stop();
    if (p.webhooks) p.webhooks->Stop();
    if (p.cluster_sync) p.cluster_sync->Stop();
    p.management_server->Stop();
    for (auto& server : p.gateway_servers) server->Stop();
    asio::co_spawn(
        *p.io_contexts[0],
        [&]() -> asio::awaitable<void> {
          auto deadline = std::chrono::seconds(config.drain_timeout_seconds);
          bool drained = true;
          for (auto& server : p.gateway_servers) drained &= co_await server->Drained(deadline);
          drained &= co_await p.management_server->Drained(std::chrono::seconds(1));
          // Drained() logs the deliveries it leaves in the outbox.
          if (p.webhooks) (void)co_await p.webhooks->Drained(kWebhookShutdownGrace);
          if (drained) {
            spdlog::info("all requests finished");
          } else {
            spdlog::warn("drain timeout reached; closing remaining connections");
          }
          stopped.set_value();
        },
        asio::detached);
  });
  stopped.get_future().wait();
  stop_all();
  spdlog::info("credgate stopped");
  return 0;
}

}  // namespace credgate::app
