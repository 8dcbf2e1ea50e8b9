// The Prometheus page that the management listener serves at GET /metrics: the gateway's
// requests and latencies, every rejection counter by reason, refreshes by outcome and provider,
// cache hits, connections by status, store call durations, connection events, webhook
// deliveries, the management API's rejections and the portal's OpenID Connect sign-ins.
#pragma once

#include <string>

namespace credgate::credentials {
class ConsentCodes;
class RefreshScheduler;
class TokenManager;
}  // namespace credgate::credentials
namespace credgate::events {
class EventLog;
class WebhookDispatcher;
}  // namespace credgate::events
namespace credgate::gateway {
class Gateway;
class LoginFlow;
}  // namespace credgate::gateway
namespace credgate::http {
class ServerTls;
}
namespace credgate::identity {
class JwtValidator;
}
namespace credgate::management {
class ClusterSync;
class ManagementService;
}  // namespace credgate::management
namespace credgate::store {
class AsyncStore;
}
namespace credgate::runtime {
class ConfigState;
class ConnectionStatusTable;
}  // namespace credgate::runtime

namespace credgate::app {

class PortalOidc;

// The objects whose counters the page shows. Any pointer may be null; its metrics are left out.
struct MetricsSources {
  const gateway::Gateway* gateway = nullptr;
  const gateway::LoginFlow* login_flow = nullptr;
  const identity::JwtValidator* validator = nullptr;
  const credentials::TokenManager* tokens = nullptr;
  const credentials::RefreshScheduler* refresh_scheduler = nullptr;
  const credentials::ConsentCodes* consent_codes = nullptr;
  const management::ManagementService* management = nullptr;
  const management::ClusterSync* cluster_sync = nullptr;
  // Both are needed for credgate_connections: a connection without a stored status has never
  // been signed in.
  const runtime::ConfigState* config = nullptr;
  const runtime::ConnectionStatusTable* statuses = nullptr;
  // The listeners with TLS; null for a listener that serves plain HTTP.
  const http::ServerTls* gateway_tls = nullptr;
  const http::ServerTls* management_tls = nullptr;
  const events::EventLog* event_log = nullptr;
  const events::WebhookDispatcher* webhooks = nullptr;
  const store::AsyncStore* store = nullptr;
  const PortalOidc* portal_oidc = nullptr;  // Null unless the portal offers OpenID Connect.
};

// Returns the page in Prometheus' text format (version 0.0.4).
std::string RenderMetrics(const MetricsSources& sources);

}  // namespace credgate::app
