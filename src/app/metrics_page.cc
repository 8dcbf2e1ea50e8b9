#include "app/metrics_page.h"

#include "app/portal_oidc.h"
#include <utility>

#include "credentials/consent_codes.h"
#include "credentials/refresh_scheduler.h"
#include "credentials/token_manager.h"
#include "events/event_log.h"
#include "events/webhook_dispatcher.h"
#include "gateway/gateway.h"
#include "gateway/login_flow.h"
#include "http/server_tls.h"
#include "identity/validator.h"
#include "management/cluster_sync.h"
#include "management/service.h"
#include "management/test_console.h"
#include "metrics/exposition.h"
#include "policy/limit_counters.h"
#include "policy/response_cache.h"
#include "runtime/state.h"
#include "store/async_store.h"

namespace credgate::app {

namespace {

uint64_t Load(const std::atomic<uint64_t>& value) {
  return value.load(std::memory_order_relaxed);
}

void WriteGateway(const gateway::Gateway& gateway, metrics::Exposition& out) {
  const auto& counters = gateway.counters();
  constexpr char kRejections[] = "credgate_gateway_rejections_total";
  constexpr char kRejectionsHelp[] = "Gateway requests rejected or answered early, by reason";
  out.Counter("credgate_gateway_requests_received_total", "Requests the gateway received",
              Load(counters.requests));
  out.Counter(kRejections, kRejectionsHelp, Load(counters.no_route), {{"reason", "NoRoute"}});
  out.Counter(kRejections, kRejectionsHelp, Load(counters.backend_failures),
              {{"reason", "BackendFailure"}});
  out.Counter(kRejections, kRejectionsHelp, Load(counters.backend_error_statuses),
              {{"reason", "BackendErrorStatus"}});
  out.Counter(kRejections, kRejectionsHelp, Load(counters.backends_not_found),
              {{"reason", "BackendNotFound"}});
  out.Counter(kRejections, kRejectionsHelp, Load(counters.request_bodies_rejected),
              {{"reason", "RequestBodyRejected"}});
  const auto& authorization = gateway.authorization_counters();
  out.Counter(kRejections, kRejectionsHelp, Load(authorization.invalid_identity),
              {{"reason", "InvalidIdentity"}});
  out.Counter(kRejections, kRejectionsHelp, Load(authorization.access_denied),
              {{"reason", "AccessDenied"}});
  out.Counter(kRejections, kRejectionsHelp, Load(authorization.not_found),
              {{"reason", "ConnectionNotFound"}});
  out.Counter(kRejections, kRejectionsHelp, Load(authorization.token_unavailable),
              {{"reason", "TokenUnavailable"}});
  const auto& limits = policy::TrafficLimitCounters();
  out.Counter(kRejections, kRejectionsHelp, Load(limits.rate_limited),
              {{"reason", "RateLimitExceeded"}});
  out.Counter(kRejections, kRejectionsHelp, Load(limits.calls_exhausted),
              {{"reason", "CallQuotaExceeded"}});
  out.Counter(kRejections, kRejectionsHelp, Load(limits.bandwidth_exhausted),
              {{"reason", "BandwidthQuotaExceeded"}});
  out.Counter("credgate_policy_quota_bandwidth_bytes_total",
              "Request and response body bytes added to quota-by-key bandwidth counters",
              Load(limits.bandwidth_bytes));
  out.Counter("credgate_gateway_policy_responses_total",
              "Requests answered by a policy (return-response, or an error in a policy)",
              Load(counters.policy_responses));
  out.Counter("credgate_gateway_caller_tokens_removed_total",
              "Caller JWTs removed from the Authorization header sent to a backend",
              Load(counters.caller_tokens_removed));
  out.Counter("credgate_authorizations_granted_total",
              "Backend tokens handed out by get-authorization-context",
              Load(authorization.granted));
  const auto& exchange = gateway.token_exchange_counters();
  constexpr char kExchanges[] = "credgate_token_exchanges_total";
  constexpr char kExchangesHelp[] =
      "Token exchange requests (POST /.credgate/token) by outcome, as the OAuth error code";
  out.Counter(kExchanges, kExchangesHelp, Load(exchange.issued), {{"outcome", "issued"}});
  out.Counter(kExchanges, kExchangesHelp, Load(exchange.invalid_request),
              {{"outcome", "invalid_request"}});
  out.Counter(kExchanges, kExchangesHelp, Load(exchange.invalid_grant),
              {{"outcome", "invalid_grant"}});
  out.Counter(kExchanges, kExchangesHelp, Load(exchange.access_denied),
              {{"outcome", "access_denied"}});
  out.Counter(kExchanges, kExchangesHelp, Load(exchange.unavailable),
              {{"outcome", "temporarily_unavailable"}});
  const auto lookups = gateway.decision_cache().CountLookups();
  constexpr char kDecisions[] = "credgate_access_decision_cache_lookups_total";
  constexpr char kDecisionsHelp[] =
      "Access policy decision cache lookups: hit skips the policy match, miss runs it";
  out.Counter(kDecisions, kDecisionsHelp, lookups.hits, {{"outcome", "hit"}});
  out.Counter(kDecisions, kDecisionsHelp, lookups.misses, {{"outcome", "miss"}});
  out.Gauge("credgate_access_decision_cache_entries",
            "Allowed (caller, connection) pairs in the access policy decision cache",
            static_cast<double>(gateway.decision_cache().size()));
  const auto& rejected = gateway.rejected_token_counters();
  out.Counter("credgate_backend_token_rejections_total",
              "Backend 401 answers to a request that carried a connection's token",
              Load(rejected.rejected));
  out.Counter("credgate_backend_token_replays_total",
              "Requests sent again with a refreshed token after a backend 401",
              Load(rejected.replayed));
  const auto& managed = gateway.managed_identity_counters();
  out.Counter("credgate_managed_identity_tokens_issued_total",
              "Tokens handed out by authentication-managed-identity", Load(managed.issued));
  out.Counter("credgate_managed_identity_token_requests_total",
              "Token requests that authentication-managed-identity sent to its provider",
              Load(managed.requested));
  out.Counter("credgate_managed_identity_failures_total",
              "authentication-managed-identity calls that failed", Load(managed.failed));

  const policy::ResponseCacheCounters& cache = policy::ProcessResponseCacheCounters();
  constexpr const char* kLookups = "credgate_response_cache_lookups_total";
  constexpr const char* kLookupsHelp = "cache-lookup statements run, by outcome";
  out.Counter(kLookups, kLookupsHelp, Load(cache.hits), {{"outcome", "hit"}});
  out.Counter(kLookups, kLookupsHelp, Load(cache.misses), {{"outcome", "miss"}});
  out.Counter(kLookups, kLookupsHelp, Load(cache.bypassed), {{"outcome", "bypassed"}});
  out.Counter("credgate_response_cache_stores_total", "Responses that cache-store stored",
              Load(cache.stores));
}

void WriteValidator(const identity::JwtValidator& validator, metrics::Exposition& out) {
  auto counters = validator.counters();
  constexpr char kJwts[] = "credgate_caller_jwts_total";
  constexpr char kJwtsHelp[] = "Caller JWT validations by outcome";
  out.Counter(kJwts, kJwtsHelp, counters.accepted - counters.cache_hits,
              {{"outcome", "verified"}});
  out.Counter(kJwts, kJwtsHelp, counters.cache_hits, {{"outcome", "cache_hit"}});
  out.Counter(kJwts, kJwtsHelp, counters.rejected, {{"outcome", "rejected"}});
  out.Counter("credgate_jwks_fetches_total", "Discovery and JWKS fetches by outcome",
              counters.key_fetches - counters.key_fetch_failures, {{"outcome", "ok"}});
  out.Counter("credgate_jwks_fetches_total", "Discovery and JWKS fetches by outcome",
              counters.key_fetch_failures, {{"outcome", "failed"}});
}

void WriteTokens(const credentials::TokenManager& tokens, metrics::Exposition& out) {
  auto counters = tokens.GetCounters();
  constexpr char kRefreshes[] = "credgate_token_refreshes_total";
  constexpr char kRefreshesHelp[] = "Connection token refreshes by outcome";
  out.Counter(kRefreshes, kRefreshesHelp, counters.refreshes, {{"outcome", "refreshed"}});
  out.Counter(kRefreshes, kRefreshesHelp, counters.refresh_failures, {{"outcome", "failed"}});
  out.Counter(kRefreshes, kRefreshesHelp, counters.refreshes_adopted,
              {{"outcome", "adopted_from_store"}});
  out.Counter(kRefreshes, kRefreshesHelp, counters.relogins_required,
              {{"outcome", "relogin_required"}});
  out.Counter(kRefreshes, kRefreshesHelp, counters.provider_settings_invalid,
              {{"outcome", "provider_settings_invalid"}});
  out.Counter(kRefreshes, kRefreshesHelp, counters.rotations_lost,
              {{"outcome", "rotation_lost"}});
  for (const auto& [provider, outcomes] : tokens.RefreshOutcomesByProvider()) {
    for (size_t i = 0; i < outcomes.size(); ++i) {
      const auto outcome = static_cast<credentials::TokenManager::RefreshOutcome>(i);
      out.Counter("credgate_provider_token_refreshes_total",
                  "Connection token refreshes by credential provider and outcome", outcomes[i],
                  {{"provider", provider},
                   {"outcome", credentials::TokenManager::RefreshOutcomeName(outcome)}});
    }
  }
  out.Counter("credgate_backend_401_refreshes_total",
              "Refreshes started because a backend rejected a token, and ones skipped",
              counters.rejected_token_refreshes, {{"outcome", "started"}});
  out.Counter("credgate_backend_401_refreshes_total",
              "Refreshes started because a backend rejected a token, and ones skipped",
              counters.rejected_token_refreshes_skipped, {{"outcome", "skipped"}});
}

void WriteScheduler(const credentials::RefreshScheduler& scheduler, metrics::Exposition& out) {
  auto counters = scheduler.GetCounters();
  out.Counter("credgate_refresh_scheduler_scans_total", "Scans of the background scheduler",
              counters.scans);
  out.Counter("credgate_refresh_scheduler_refreshes_total",
              "Background refreshes started, and those that failed", counters.refreshes_started,
              {{"outcome", "started"}});
  out.Counter("credgate_refresh_scheduler_refreshes_total",
              "Background refreshes started, and those that failed", counters.refresh_failures,
              {{"outcome", "failed"}});
}

void WriteLogin(const gateway::LoginFlow& login, metrics::Exposition& out) {
  const auto& counters = login.counters();
  constexpr char kSteps[] = "credgate_sign_in_steps_total";
  constexpr char kStepsHelp[] = "Sign-in confirmation pages and callbacks by outcome";
  out.Counter(kSteps, kStepsHelp, Load(counters.consent_shown), {{"step", "consent_shown"}});
  out.Counter(kSteps, kStepsHelp, Load(counters.consent_skipped), {{"step", "consent_skipped"}});
  out.Counter(kSteps, kStepsHelp, Load(counters.consent_accepted),
              {{"step", "consent_accepted"}});
  out.Counter(kSteps, kStepsHelp, Load(counters.consent_cancelled),
              {{"step", "consent_cancelled"}});
  out.Counter(kSteps, kStepsHelp, Load(counters.consent_rejected),
              {{"step", "consent_rejected"}});
  out.Counter(kSteps, kStepsHelp, Load(counters.issuer_mismatch), {{"step", "issuer_mismatch"}});
  out.Counter(kSteps, kStepsHelp, Load(counters.issuer_missing), {{"step", "issuer_missing"}});
}

void WriteConsentCodes(const credentials::ConsentCodes& codes, metrics::Exposition& out) {
  const auto& counters = codes.counters();
  constexpr char kCodes[] = "credgate_consent_codes_total";
  constexpr char kCodesHelp[] = "Consent codes issued, confirmed and rejected";
  out.Counter(kCodes, kCodesHelp, Load(counters.issued), {{"outcome", "issued"}});
  out.Counter(kCodes, kCodesHelp, Load(counters.confirmed), {{"outcome", "confirmed"}});
  out.Counter(kCodes, kCodesHelp, Load(counters.rejected), {{"outcome", "rejected"}});
}

void WritePortalOidc(const PortalOidc& portal, metrics::Exposition& out) {
  const auto& counters = portal.counters();
  constexpr char kSignIns[] = "credgate_portal_oidc_sign_ins_total";
  constexpr char kSignInsHelp[] = "Portal OpenID Connect sign-ins, by outcome";
  const std::pair<const char*, const std::atomic<uint64_t>*> outcomes[] = {
      {"started", &counters.started},
      {"signed_in", &counters.signed_in},
      {"provider_error", &counters.provider_errors},
      {"invalid_state", &counters.invalid_state},
      {"exchange_failed", &counters.exchange_failed},
      {"invalid_token", &counters.invalid_token},
      {"forbidden", &counters.forbidden},
      {"unavailable", &counters.unavailable},
  };
  for (const auto& [outcome, counter] : outcomes) {
    out.Counter(kSignIns, kSignInsHelp, Load(*counter), {{"outcome", outcome}});
  }
  out.Counter("credgate_portal_oidc_csrf_rejections_total",
              "Management calls with a portal session cookie but no valid X-CSRF-Token header",
              Load(counters.csrf_rejected));
  out.Counter("credgate_portal_oidc_sign_outs_total", "Portal sessions ended by sign-out",
              Load(counters.signed_out));
  out.Gauge("credgate_portal_oidc_sessions", "Portal sessions held in memory, expired ones included "
            "until they are purged",
            static_cast<double>(portal.sessions().SessionCount()));
}

void WriteManagement(const management::ManagementService& management, metrics::Exposition& out) {
  const auto& counters = management.counters();
  constexpr char kRejections[] = "credgate_management_rejections_total";
  constexpr char kRejectionsHelp[] = "Management API calls rejected, by reason";
  out.Counter(kRejections, kRejectionsHelp, Load(counters.unauthenticated),
              {{"reason", "Unauthenticated"}});
  out.Counter(kRejections, kRejectionsHelp, Load(counters.forbidden), {{"reason", "Forbidden"}});
  out.Counter(kRejections, kRejectionsHelp, Load(counters.rate_limited),
              {{"reason", "TooManyRequests"}});
  constexpr char kTransfers[] = "credgate_management_transfers_total";
  constexpr char kTransfersHelp[] = "POST /export and POST /import calls, by outcome";
  out.Counter(kTransfers, kTransfersHelp, Load(counters.exports),
              {{"call", "export"}, {"outcome", "succeeded"}});
  out.Counter(kTransfers, kTransfersHelp, Load(counters.exports_failed),
              {{"call", "export"}, {"outcome", "failed"}});
  out.Counter(kTransfers, kTransfersHelp, Load(counters.imports),
              {{"call", "import"}, {"outcome", "succeeded"}});
  out.Counter(kTransfers, kTransfersHelp, Load(counters.imports_failed),
              {{"call", "import"}, {"outcome", "failed"}});

  const management::TestConsole* console = management.test_console();
  if (console == nullptr) return;
  const auto& tests = console->counters();
  constexpr char kTests[] = "credgate_management_test_requests_total";
  constexpr char kTestsHelp[] = "POST /apis/{api}/test calls, by outcome";
  out.Counter(kTests, kTestsHelp, Load(tests.answered), {{"outcome", "answered"}});
  out.Counter(kTests, kTestsHelp, Load(tests.rejected), {{"outcome", "rejected"}});
  out.Counter(kTests, kTestsHelp, Load(tests.failed), {{"outcome", "failed"}});
}

void WriteClusterSync(const management::ClusterSync& sync, metrics::Exposition& out) {
  auto counters = sync.GetCounters();
  constexpr char kChanges[] = "credgate_cluster_changes_total";
  constexpr char kChangesHelp[] = "Change notifications from other gateways, by outcome";
  out.Counter(kChanges, kChangesHelp, counters.changes_applied, {{"outcome", "applied"}});
  out.Counter(kChanges, kChangesHelp, counters.changes_skipped, {{"outcome", "skipped"}});
  out.Counter(kChanges, kChangesHelp, counters.change_failures, {{"outcome", "failed"}});
  out.Counter("credgate_cluster_reconciliations_total", "Full comparisons with the store",
              counters.reconciliations);
  out.Counter("credgate_cluster_records_repaired_total",
              "Records that a reconciliation found out of date", counters.records_repaired);
}

// Writes the TLS counters of the listeners that have TLS. Each family stays contiguous, because
// the text format requires it.
void WriteListenerTls(const MetricsSources& sources, metrics::Exposition& out) {
  const std::pair<const char*, const http::ServerTls*> listeners[] = {
      {"gateway", sources.gateway_tls}, {"management", sources.management_tls}};
  for (const auto& [listener, tls] : listeners) {
    if (tls == nullptr) continue;
    out.Counter("credgate_tls_handshake_failures_total",
                "TLS handshakes that failed or timed out, by listener",
                Load(tls->counters().failed_handshakes), {{"listener", listener}});
  }
  constexpr char kReloads[] = "credgate_tls_reloads_total";
  constexpr char kReloadsHelp[] = "Certificate reloads on SIGHUP, by listener and outcome";
  for (const auto& [listener, tls] : listeners) {
    if (tls == nullptr) continue;
    out.Counter(kReloads, kReloadsHelp, Load(tls->counters().reloads),
                {{"listener", listener}, {"outcome", "succeeded"}});
    out.Counter(kReloads, kReloadsHelp, Load(tls->counters().failed_reloads),
                {{"listener", listener}, {"outcome", "failed"}});
  }
}

void WriteEvents(const events::EventLog* log, const events::WebhookDispatcher* webhooks,
                 metrics::Exposition& out) {
  if (log != nullptr) {
    const auto& counters = log->counters();
    constexpr char kEvents[] = "credgate_connection_events_total";
    constexpr char kEventsHelp[] = "Connection events recorded, and ones the store did not take";
    out.Counter(kEvents, kEventsHelp, Load(counters.recorded), {{"outcome", "recorded"}});
    out.Counter(kEvents, kEventsHelp, Load(counters.record_failures), {{"outcome", "failed"}});
  }
  if (webhooks != nullptr) {
    auto counters = webhooks->GetCounters();
    constexpr char kDeliveries[] = "credgate_webhook_deliveries_total";
    constexpr char kDeliveriesHelp[] =
        "Webhook delivery attempts by outcome: delivered, retried, given_up (the last attempt "
        "failed and the delivery was deleted from the outbox)";
    out.Counter(kDeliveries, kDeliveriesHelp, counters.delivered, {{"outcome", "delivered"}});
    out.Counter(kDeliveries, kDeliveriesHelp, counters.retried, {{"outcome", "retried"}});
    out.Counter(kDeliveries, kDeliveriesHelp, counters.given_up, {{"outcome", "given_up"}});
    out.Counter("credgate_webhook_outbox_store_failures_total",
                "Webhook outbox reads and writes that the store rejected; the deliveries stay in "
                "the outbox",
                counters.store_failures);
  }
}

}  // namespace

std::string RenderMetrics(const MetricsSources& sources) {
  metrics::Exposition out;
  if (sources.gateway != nullptr) {
    WriteGateway(*sources.gateway, out);
    sources.gateway->request_metrics().Write(out);
  }
  if (sources.validator != nullptr) WriteValidator(*sources.validator, out);
  if (sources.tokens != nullptr) WriteTokens(*sources.tokens, out);
  if (sources.refresh_scheduler != nullptr) WriteScheduler(*sources.refresh_scheduler, out);
  if (sources.login_flow != nullptr) WriteLogin(*sources.login_flow, out);
  if (sources.consent_codes != nullptr) WriteConsentCodes(*sources.consent_codes, out);
  if (sources.management != nullptr) WriteManagement(*sources.management, out);
  if (sources.portal_oidc != nullptr) WritePortalOidc(*sources.portal_oidc, out);
  if (sources.cluster_sync != nullptr) WriteClusterSync(*sources.cluster_sync, out);
  WriteListenerTls(sources, out);
  WriteEvents(sources.event_log, sources.webhooks, out);
  if (sources.store != nullptr) sources.store->latency().Write(out);
  if (sources.statuses != nullptr && sources.config != nullptr) {
    std::map<std::string, uint64_t> counts = sources.statuses->CountByStatus();
    uint64_t with_status = 0;
    for (const auto& [status, count] : counts) with_status += count;
    const uint64_t connections = sources.config->Current()->connections.size();
    if (connections > with_status) counts["Unauthenticated"] += connections - with_status;
    for (const auto& [status, count] : counts) {
      out.Gauge("credgate_connections", "Connections by status: Connected or the error code",
                static_cast<double>(count), {{"status", status}});
    }
  }
  return out.text();
}

}  // namespace credgate::app
