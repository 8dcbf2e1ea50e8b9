// Gateway: the data-plane request handler. For each request it finds the API and operation,
// runs the inbound policies, forwards the request to the API's service URL over pooled
// keep-alive connections with both bodies streamed, runs the outbound policies on the
// response header and relays the response. POST /.credgate/token is the token exchange
// endpoint (token_exchange.h); other requests under /.credgate/ go to the sign-in pages.
// Every response the gateway sends carries x-request-id: the backend's own, or else the
// request's id. A backend 401 to a connection token refreshes the connection, and a
// replayable request is sent once more with the new token (rejected_token.h). When a request's
// x-credgate-trace header names a trace that the test console opened, its policy steps go into
// that trace (policy/trace.h). The gateway removes the header before the policies and the
// backend see it. A forward-request inside <retry> or <limit-concurrency>, or with
// follow-redirects, calls the backend from the policy with the buffered request body, as often
// as it runs. The caller then receives the last response, after the outbound policies.
//
// The request path never throws and never blocks: configuration comes from the in-memory
// snapshot, tokens from the token manager's memory (a refresh is the only network call besides
// the backend). Every rejection is counted.
//
// Thread-safe; one Gateway serves every listener.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>

#include "gateway/authorization_service.h"
#include "gateway/login_flow.h"
#include "gateway/rejected_token.h"
#include "gateway/router.h"
#include "gateway/token_exchange.h"
#include "http/exchange.h"
#include "http/proxy.h"
#include "metrics/request_metrics.h"
#include "policy/trace.h"
#include "runtime/services.h"

namespace credgate::gateway {

struct GatewayCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> no_route{0};
  std::atomic<uint64_t> policy_responses{0};  // Answered by the policy (return-response, error).
  std::atomic<uint64_t> backend_failures{0};
  // Backend 4xx and 5xx responses that forward-request's fail-on-error-status-code turned into
  // failures.
  std::atomic<uint64_t> backend_error_statuses{0};
  // Requests whose set-backend-service backend-id expression named no existing backend.
  std::atomic<uint64_t> backends_not_found{0};
  // Caller JWTs removed from the Authorization header sent to the backend.
  std::atomic<uint64_t> caller_tokens_removed{0};
  // Request bodies that a policy needed but that were too large or could not be read.
  std::atomic<uint64_t> request_bodies_rejected{0};
};

class Gateway {
 public:
  // `traces` contains the traces that the test console opened; null traces no request. Not
  // owned.
  Gateway(runtime::Services& services, LoginFlow& login_flow, http::UpstreamPool& upstreams,
          policy::TraceRegistry* traces = nullptr)
      : services_(services),
        login_flow_(login_flow),
        upstreams_(upstreams),
        authorization_(services),
        traces_(traces),
        token_exchange_(authorization_, *services.clock) {}

  boost::asio::awaitable<void> Handle(http::ServerExchange& exchange);

  // Requests and latencies per API and operation, for the metrics page.
  const metrics::RequestMetrics& request_metrics() const { return request_metrics_; }

  const GatewayCounters& counters() const { return counters_; }
  const RejectedTokenCounters& rejected_token_counters() const { return rejected_tokens_; }
  const AuthorizationCounters& authorization_counters() const { return authorization_.counters(); }
  const ManagedIdentityCounters& managed_identity_counters() const {
    return authorization_.managed_identity_counters();
  }
  const TokenExchangeCounters& token_exchange_counters() const {
    return token_exchange_.counters();
  }
  // The access policy decision cache of get-authorization-context and the token exchange.
  const credentials::AccessDecisionCache& decision_cache() const {
    return authorization_.decision_cache();
  }

 private:
  // The API and operation a request was routed to; both stay empty for a request no operation
  // matched. `snapshot` keeps the strings alive.
  struct RouteLabels {
    std::shared_ptr<const runtime::Snapshot> snapshot;
    const std::string* api = nullptr;
    const std::string* operation = nullptr;
  };

  // The backend request that the request's policies describe.
  struct BackendCall {
    http::Upstream upstream;
    http::RequestHeader header;
  };

  boost::asio::awaitable<void> HandleRouted(http::ServerExchange& exchange, RouteLabels& labels);
  // Builds the backend request from `context` after the request sections ran: the target of
  // set-backend-service and rewrite-uri, the context's method and headers without the caller's
  // token, and a backend resource's credentials. Errors: kNotFound when set-backend-service
  // names a backend that does not exist, and kInvalidArgument when the URL it set is invalid.
  // The message may be sent to the caller. `count_removed_token` false builds a call again
  // without counting the removed caller token a second time.
  Result<BackendCall> BackendCallFromContext(const runtime::Snapshot& snapshot, const Route& route,
                                             const policy::PolicyContext& context,
                                             const RequestAuthorizations& authorizations,
                                             std::string_view request_id,
                                             bool count_removed_token = true);
  // PolicyServices::ForwardRequest for one request: sends the request that `context` describes
  // and reads the whole response into context.response.
  boost::asio::awaitable<Status> ForwardFromPolicy(http::ServerExchange& exchange,
                                                   const runtime::Snapshot& snapshot,
                                                   const Route& route,
                                                   const RequestAuthorizations& authorizations,
                                                   const policy::ForwardRequestSpec& spec,
                                                   policy::PolicyContext& context);
  boost::asio::awaitable<void> HandleLogin(http::ServerExchange& exchange);
  boost::asio::awaitable<void> HandleTokenExchange(http::ServerExchange& exchange);

  runtime::Services& services_;
  LoginFlow& login_flow_;
  http::UpstreamPool& upstreams_;
  AuthorizationService authorization_;
  policy::TraceRegistry* traces_;
  TokenExchange token_exchange_;
  GatewayCounters counters_;
  RejectedTokenCounters rejected_tokens_;
  metrics::RequestMetrics request_metrics_;
};

}  // namespace credgate::gateway
