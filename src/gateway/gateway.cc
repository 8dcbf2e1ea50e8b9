#include "gateway/gateway.h"

#include <spdlog/spdlog.h>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>

#include "gateway/backend_target.h"
#include "gateway/redirects.h"
#include "gateway/rejected_token.h"
#include "gateway/router.h"
#include "http/url.h"
#include "policy/bandwidth.h"
#include "policy/context.h"

namespace credgate::gateway {

namespace bhttp = boost::beast::http;
using boost::asio::awaitable;

namespace {

constexpr size_t kMaxLoginBodyBytes = 16 * 1024;
// The largest request body that the gateway reads for a policy that reads context.Request.Body.
constexpr size_t kMaxPolicyBodyBytes = 4 * 1024 * 1024;
// A token exchange body carries a JWT, which may hold many group claims.
constexpr size_t kMaxTokenExchangeBodyBytes = 64 * 1024;

http::Response JsonError(int status, std::string_view message, unsigned version) {
  boost::json::object body;
  body["statusCode"] = status;
  body["message"] = message;
  http::Response response{static_cast<bhttp::status>(status), version};
  response.set(bhttp::field::content_type, "application/json; charset=utf-8");
  response.body() = boost::json::serialize(body);
  response.prepare_payload();
  return response;
}

// Sets x-request-id to the request's id unless the response has one already, so that a caller
// can quote the id that the gateway's log lines and sign-in pages carry.
void SetRequestId(bhttp::fields& fields, const http::ServerExchange& exchange) {
  if (fields.find("x-request-id") == fields.end()) {
    fields.set("x-request-id", exchange.info().request_id);
  }
}

// Sends a response that the gateway built itself (an error, a policy's or a sign-in page).
awaitable<void> Respond(http::ServerExchange& exchange, http::Response response) {
  SetRequestId(response, exchange);
  // A failed write means the client is gone, and Respond() has then closed keep-alive.
  (void)co_await exchange.Respond(std::move(response));
}

void FillRequestContext(const http::ServerExchange& exchange, const Route& route,
                        std::string_view path, std::string_view query,
                        const runtime::Settings& settings, policy::PolicyContext& context) {
  const http::RequestHeader& header = exchange.header();
  policy::RequestState& request = context.request;
  request.method = std::string(header.method_string());
  request.path = std::string(path);
  request.query_string = std::string(query);
  request.headers.Reserve(16);
  for (const auto& field : header) {
    if (boost::beast::iequals(field.name_string(), policy::kTraceHeader)) continue;
    request.headers.Append(field.name_string(), std::string(field.value()));
  }
  std::string_view host = header[bhttp::field::host];
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    request.host = std::string(host.substr(0, colon));
    request.port = std::atoi(std::string(host.substr(colon + 1)).c_str());
  } else {
    request.host = std::string(host);
  }
  request.scheme = "http";
  if (request.port == 0) request.port = 80;
  request.ip_address = exchange.info().peer_address;
  request.matched_parameters = route.parameters;

  context.request_id = exchange.info().request_id;
  context.timestamp = std::chrono::system_clock::now();
  context.deployment.service_name = "credgate";
  context.deployment.gateway_id = settings.instance_id;
  context.api.id = route.api->resource.id;
  context.api.name = route.api->resource.display_name;
  context.api.path = route.api->resource.path;
  context.operation.id = route.operation->resource.id;
  context.operation.name = route.operation->resource.display_name;
  context.operation.method = route.operation->resource.method;
  context.operation.url_template = route.operation->resource.url_template;
  context.operation.response_examples = route.operation->resource.response_examples;
}

// Reports whether the backend section has to run: it contains a statement other than
// forward-request, or a forward-request whose timeout or fail-on-error-status-code the gateway
// reads from the context.
bool HasBackendStatements(const policy::CompiledPipeline& pipeline) {
  for (const policy::PipelineStatement& entry : pipeline.section(policy::Section::kBackend)) {
    const auto* forward = std::get_if<policy::ForwardRequestSpec>(&entry.statement->spec);
    if (forward == nullptr || forward->sends_now || forward->timeout_set ||
        forward->fail_on_error_status_code) {
      return true;
    }
  }
  return false;
}

// Returns the error that fails forward-request after a failed backend call (an error of
// UpstreamPool::ProxyRequest): its code gives the status, and its reason and message become
// context.LastError's. The message may be sent to the caller.
Error ForwardRequestError(const Error& error) {
  switch (error.code) {
    case ErrorCode::kDeadlineExceeded:
      return MakeError(ErrorCode::kDeadlineExceeded, "The backend did not respond in time",
                       "Timeout");
    case ErrorCode::kInvalidArgument:
      return MakeError(ErrorCode::kInvalidArgument, "The request body is malformed",
                       "BackendConnectionFailure");
    default:
      return MakeError(ErrorCode::kBadGateway, "The backend could not be reached",
                       "BackendConnectionFailure");
  }
}

// Sets the context's response to the gateway's JSON error, which on-error may then change.
void SetJsonError(policy::PolicyContext& context, int status, std::string_view message) {
  boost::json::object body;
  body["statusCode"] = status;
  body["message"] = message;
  context.response.status_code = status;
  context.response.reason.clear();
  context.response.headers = policy::HeaderMap();
  context.response.headers.Set("Content-Type", "application/json; charset=utf-8");
  context.response.body = boost::json::serialize(body);
  context.response_ready = true;
}

http::Response ResponseFromContext(policy::PolicyContext& context, unsigned version) {
  http::Response response{static_cast<bhttp::status>(context.response.status_code), version};
  if (!context.response.reason.empty()) response.reason(context.response.reason);
  for (const auto& [name, value] : context.response.headers.fields()) {
    response.insert(name, value);
  }
  for (const auto& [name, value] : context.added_response_headers.fields()) {
    response.set(name, value);
  }
  response.body() = std::move(context.response.body);
  response.prepare_payload();
  return response;
}

// Adds the body bytes of the exchange to the bandwidth quotas that let the request through, when
// the handler returns, whichever response it sent. A request without such a quota costs one
// check of an empty vector.
class BandwidthCharger {
 public:
  BandwidthCharger(const policy::PolicyContext& context, const http::ServerExchange& exchange)
      : context_(context), exchange_(exchange) {}
  BandwidthCharger(const BandwidthCharger&) = delete;
  BandwidthCharger& operator=(const BandwidthCharger&) = delete;
  ~BandwidthCharger() {
    if (context_.bandwidth_charges.empty()) return;
    policy::ChargeBandwidth(context_,
                            exchange_.request_body_bytes() + exchange_.response_body_bytes());
  }

 private:
  const policy::PolicyContext& context_;
  const http::ServerExchange& exchange_;
};

}  // namespace

awaitable<void> Gateway::HandleLogin(http::ServerExchange& exchange) {
  auto body = co_await exchange.ReadBody(kMaxLoginBodyBytes);
  const unsigned version = exchange.header().version();
  if (!body.ok()) {
    co_await Respond(exchange, JsonError(400, "the request body cannot be read", version));
    co_return;
  }
  http::Request request;
  request.base() = exchange.header();
  request.body() = std::move(*body);
  http::Response response = co_await login_flow_.Handle(std::move(request), exchange.info());
  co_await Respond(exchange, std::move(response));
}

awaitable<void> Gateway::HandleTokenExchange(http::ServerExchange& exchange) {
  auto body = co_await exchange.ReadBody(kMaxTokenExchangeBodyBytes);
  const unsigned version = exchange.header().version();
  if (!body.ok()) {
    const OAuthError unreadable{400, "invalid_request"};
    co_await Respond(exchange, OAuthErrorResponse(unreadable,
                                                  "the request body cannot be read or is larger "
                                                  "than 64 KiB",
                                                  version));
    co_return;
  }
  http::Request request;
  request.base() = exchange.header();
  request.body() = std::move(*body);
  http::Response response = co_await token_exchange_.Handle(request, exchange.info());
  co_await Respond(exchange, std::move(response));
}

awaitable<void> Gateway::Handle(http::ServerExchange& exchange) {
  const auto start = std::chrono::steady_clock::now();
  RouteLabels labels;
  co_await HandleRouted(exchange, labels);
  static const std::string kNone;
  request_metrics_.Record(labels.api ? *labels.api : kNone,
                          labels.operation ? *labels.operation : kNone,
                          exchange.response_status(), std::chrono::steady_clock::now() - start);
}

awaitable<void> Gateway::HandleRouted(http::ServerExchange& exchange, RouteLabels& labels) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  const http::RequestHeader& header = exchange.header();
  const unsigned version = header.version();
  std::string_view target = header.target();
  size_t query_start = target.find('?');
  std::string_view path = target.substr(0, query_start);
  std::string_view query =
      query_start == std::string_view::npos ? std::string_view() : target.substr(query_start + 1);

  if (path == kTokenExchangePath) {
    co_await HandleTokenExchange(exchange);
    co_return;
  }
  if (path.starts_with(kReservedPrefix)) {
    co_await HandleLogin(exchange);
    co_return;
  }

  auto snapshot = services_.config->Current();
  Route route = MatchRoute(*snapshot, header.method_string(), path);
  // A CORS preflight (OPTIONS with Access-Control-Request-Method) runs the policies of the
  // operation that its Access-Control-Request-Method names, so that their cors statement
  // responds to it.
  if (route.api && !route.operation && header.method() == bhttp::verb::options &&
      header.find(bhttp::field::origin) != header.end() &&
      header.find(bhttp::field::access_control_request_method) != header.end()) {
    route = MatchRoute(*snapshot, header[bhttp::field::access_control_request_method], path);
  }
  if (!route.api || !route.operation) {
    counters_.no_route.fetch_add(1, std::memory_order_relaxed);
    http::Response response = JsonError(
        404,
        route.api ? "Resource not found: no operation of this API matches the method and path"
                  : "Resource not found: no API matches the path",
        version);
    co_await Respond(exchange, std::move(response));
    co_return;
  }
  labels.snapshot = snapshot;
  labels.api = &route.api->resource.id;
  labels.operation = &route.operation->resource.id;

  const policy::CompiledPipeline* pipeline = route.operation->pipeline.get();
  policy::PolicyContext context;
  const BandwidthCharger charger(context, exchange);
  RequestAuthorizations authorizations(authorization_);
  if (auto handle = header.find(policy::kTraceHeader); handle != header.end() && traces_) {
    authorizations.set_trace(traces_->Claim(handle->value()));
  }
  const runtime::ApiEntry& api = *route.api;

  // Empty sections are skipped, so a pipeline whose inbound and outbound hold no statement costs
  // no more than no pipeline at all.
  const bool run_inbound = pipeline && !pipeline->section(policy::Section::kInbound).empty();
  const bool run_outbound = pipeline && !pipeline->section(policy::Section::kOutbound).empty();
  if (run_inbound || run_outbound) {
    FillRequestContext(exchange, route, path, query, services_.settings, context);
  }

  // The backend section runs only when it contains more than a plain forward-request, which the
  // gateway applies without running it.
  const bool run_backend = pipeline && HasBackendStatements(*pipeline);
  if (run_backend && !run_inbound && !run_outbound) {
    FillRequestContext(exchange, route, path, query, services_.settings, context);
  }
  // A policy that reads the request body gets all of it, and the backend then receives that
  // buffered body (or the one set-body put in its place) instead of the stream.
  bool body_buffered = false;
  if ((run_inbound || run_backend) && pipeline->reads_request_body() &&
      exchange.HasUnreadBody()) {
    Result<std::string> body = co_await exchange.ReadBody(kMaxPolicyBodyBytes);
    if (!body.ok()) {
      counters_.request_bodies_rejected.fetch_add(1, std::memory_order_relaxed);
      const ErrorCode code = body.error().code;
      const int status = code == ErrorCode::kResourceExhausted ? 413
                         : code == ErrorCode::kDeadlineExceeded ? 408
                                                                : 400;
      const std::string_view message =
          status == 413 ? "The request body is larger than 4 MiB, the most that a policy reads"
          : status == 408 ? "The request body did not arrive in time"
                          : "The request body cannot be read";
      co_await Respond(exchange, JsonError(status, message, version));
      co_return;
    }
    context.request.body = std::move(body).value();
    body_buffered = true;
  }
  if (run_backend) {
    authorizations.set_forwarder(
        [&](const policy::ForwardRequestSpec& spec, policy::PolicyContext& forwarded) {
          return ForwardFromPolicy(exchange, *snapshot, route, authorizations, spec, forwarded);
        });
  }
  static constexpr policy::Section kRequestSections[] = {policy::Section::kInbound,
                                                         policy::Section::kBackend};
  for (policy::Section section : kRequestSections) {
    const bool run = section == policy::Section::kInbound ? run_inbound : run_backend;
    if (!run) continue;
    auto outcome = co_await policy::Execute(*pipeline, section, context, authorizations);
    if (outcome == policy::ExecutionOutcome::kRespond) {
      counters_.policy_responses.fetch_add(1, std::memory_order_relaxed);
      co_await Respond(exchange, ResponseFromContext(context, version));
      co_return;
    }
  }

  // A forward-request that sends from the policy has called the backend already.
  if (context.backend_responded) {
    if (run_outbound) {
      (void)co_await policy::Execute(*pipeline, policy::Section::kOutbound, context,
                                     authorizations);
    }
    counters_.policy_responses.fetch_add(1, std::memory_order_relaxed);
    co_await Respond(exchange, ResponseFromContext(context, version));
    co_return;
  }

  http::Upstream upstream;
  http::RequestHeader upstream_header;
  // Set when no request section ran, so that the client's header goes to the backend as it
  // arrived, with this target and without the trace header.
  std::string as_is_target;
  if (run_inbound || run_backend) {
    Result<BackendCall> call = BackendCallFromContext(*snapshot, route, context, authorizations,
                                                      exchange.info().request_id);
    if (!call.ok()) {
      co_await Respond(exchange, JsonError(500, call.error().message, version));
      co_return;
    }
    upstream = std::move(call->upstream);
    upstream_header = std::move(call->header);
    if (context.forward.requested && context.forward.timeout_set) {
      upstream.response_timeout = context.forward.timeout;
    }
  } else {
    upstream.origin = api.service.origin;
    as_is_target =
        http::ComposeTarget(api.service.base_path, api.service.query, route.remainder, query);
  }

  // A request that carries a connection token may be sent once more if the backend rejects it.
  // Whether it may is decided now, before the proxy reads the client's body.
  const std::string* replacement_body =
      context.request_body_set || body_buffered ? &context.request.body : nullptr;
  bool replayable = false;
  if (!authorizations.empty()) {
    const bool has_body = exchange.HasUnreadBody() ||
                          (replacement_body != nullptr && !replacement_body->empty());
    replayable = IsReplayable(upstream_header.method(), has_body);
  }
  // With as_is_target set no request section ran, so authorizations is empty and no body is
  // replaced.
  Result<http::UpstreamResponse> proxied = http::UpstreamResponse();
  if (as_is_target.empty()) {
    proxied = co_await upstreams_.ProxyRequest(exchange, upstream, std::move(upstream_header),
                                               replacement_body);
  } else {
    proxied = co_await upstreams_.ProxyRequestAsIs(exchange, upstream, std::move(as_is_target),
                                                   policy::kTraceHeader);
  }
  if (proxied.ok() && proxied->status() == 401 && !authorizations.empty()) {
    // The header that was sent went to the proxy, and building it again from the unchanged
    // context gives the same header. That costs less than a copy of every request's header.
    Result<BackendCall> sent = BackendCallFromContext(*snapshot, route, context, authorizations,
                                                      exchange.info().request_id,
                                                      /*count_removed_token=*/false);
    std::string sent_authorization;
    std::optional<http::RequestHeader> replay;
    if (sent.ok()) {
      sent_authorization = std::string(sent->header[bhttp::field::authorization]);
      if (replayable) replay = std::move(sent->header);
    }
    proxied = co_await HandleRejectedToken(exchange, upstreams_, upstream, *services_.tokens,
                                           authorizations, std::move(sent_authorization),
                                           std::move(replay), std::move(proxied).value(),
                                           rejected_tokens_);
  }
  // A failed backend call fails forward-request, and so does a 4xx or 5xx response when
  // fail-on-error-status-code is set.
  int failed_status = 0;
  std::string failed_reason;
  std::string failed_message;
  if (!proxied.ok()) {
    counters_.backend_failures.fetch_add(1, std::memory_order_relaxed);
    const Error& error = proxied.error();
    spdlog::warn("backend request failed request_id={} api={} operation={}: {}",
                 exchange.info().request_id, api.resource.id, route.operation->resource.id,
                 error.message);
    if (exchange.responded()) co_return;
    Error failure = ForwardRequestError(error);
    failed_status = HttpStatusFor(failure.code);
    failed_reason = std::move(failure.reason);
    failed_message = std::move(failure.message);
  } else if (context.forward.fail_on_error_status_code && proxied->status() >= 400 &&
             proxied->status() <= 599) {
    counters_.backend_error_statuses.fetch_add(1, std::memory_order_relaxed);
    failed_status = proxied->status();
    failed_reason = "BackendError";
    failed_message = "The backend responded with status " + std::to_string(failed_status);
    // Closes the backend connection, because the caller never receives this body.
    http::UpstreamResponse discarded = std::move(proxied).value();
  }
  if (failed_status != 0) {
    if (pipeline && !pipeline->section(policy::Section::kOnError).empty()) {
      // As in APIM, a failed backend call runs on-error with LastError naming forward-request.
      if (!run_inbound && !run_outbound) {
        FillRequestContext(exchange, route, path, query, services_.settings, context);
      }
      context.last_error = policy::LastErrorState{
          "forward-request", failed_reason, failed_message, "", "backend", "", ""};
      SetJsonError(context, failed_status, failed_message);
      co_await policy::Execute(*pipeline, policy::Section::kOnError, context, authorizations);
      co_await Respond(exchange, ResponseFromContext(context, version));
      co_return;
    }
    co_await Respond(exchange, JsonError(failed_status, failed_message, version));
    co_return;
  }

  http::ResponseHeader response_header = proxied->TakeHeader();
  if (run_outbound) {
    context.response.status_code = static_cast<int>(response_header.result_int());
    context.response.reason = std::string(response_header.reason());
    for (const auto& field : response_header) {
      context.response.headers.Append(field.name_string(), std::string(field.value()));
    }
    // An outbound policy that reads context.Response.Body gets the whole backend body, which
    // the caller then receives from the context.
    bool body_read = false;
    if (pipeline->reads_response_body()) {
      Result<std::string> body =
          co_await upstreams_.ReadResponseBody(std::move(*proxied), kMaxPolicyBodyBytes);
      if (!body.ok()) {
        counters_.backend_failures.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("backend response body not read request_id={} api={} operation={}: {}",
                     exchange.info().request_id, api.resource.id, route.operation->resource.id,
                     body.error().message);
        const bool too_large = body.error().code == ErrorCode::kResourceExhausted;
        const std::string_view message =
            too_large ? "The backend response is larger than 4 MiB, the most that a policy reads"
                      : "The backend response could not be read";
        co_await Respond(exchange, JsonError(502, message, version));
        co_return;
      }
      context.response.body = std::move(body).value();
      body_read = true;
    }
    auto outcome =
        co_await policy::Execute(*pipeline, policy::Section::kOutbound, context, authorizations);
    // NOTE: a body that set-body gave the response replaces the backend's, whose connection is
    // then closed instead of returned to the pool.
    if ((outcome == policy::ExecutionOutcome::kRespond && context.response_ready) ||
        context.response_body_set || body_read) {
      counters_.policy_responses.fetch_add(1, std::memory_order_relaxed);
      co_await Respond(exchange, ResponseFromContext(context, version));
      co_return;
    }
    http::ResponseHeader rewritten;
    rewritten.version(response_header.version());
    rewritten.result(static_cast<unsigned>(context.response.status_code));
    for (const auto& [name, value] : context.response.headers.fields()) {
      rewritten.insert(name, value);
    }
    response_header = std::move(rewritten);
  }
  for (const auto& [name, value] : context.added_response_headers.fields()) {
    response_header.set(name, value);
  }
  SetRequestId(response_header, exchange);
  Status relayed =
      co_await upstreams_.RelayResponse(exchange, std::move(*proxied), std::move(response_header));
  if (!relayed.ok()) {
    spdlog::debug("response relay ended early request_id={}: {}", exchange.info().request_id,
                  relayed.error().message);
  }
}

Result<Gateway::BackendCall> Gateway::BackendCallFromContext(
    const runtime::Snapshot& snapshot, const Route& route, const policy::PolicyContext& context,
    const RequestAuthorizations& authorizations, std::string_view request_id,
    bool count_removed_token) {
  // set-backend-service replaces the API's backend URL, and rewrite-uri the path below it.
  const http::ParsedUrl* service = &route.api->service;
  BackendTarget backend_target;
  if (context.backend_url || context.backend_id || context.dapr) {
    auto resolved = ResolveBackendTarget(snapshot, context, services_.settings);
    if (!resolved.ok()) {
      const bool missing = resolved.error().code == ErrorCode::kNotFound;
      (missing ? counters_.backends_not_found : counters_.backend_failures)
          .fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("set-backend-service target not resolved request_id={}: {}", request_id,
                   resolved.error().message);
      return missing ? MakeError(ErrorCode::kNotFound,
                                 "The backend that a policy names does not exist")
                     : MakeError(ErrorCode::kInvalidArgument,
                                 "The backend URL that a policy set is invalid");
    }
    backend_target = std::move(resolved).value();
    if (backend_target.service) service = &*backend_target.service;
  }
  const std::string_view remainder = backend_target.path ? std::string_view(*backend_target.path)
                                     : context.backend_path
                                         ? std::string_view(*context.backend_path)
                                         : route.remainder;

  BackendCall call;
  http::RequestHeader& header = call.header;
  header.method_string(context.request.method);
  for (const auto& [name, value] : context.request.headers.fields()) {
    header.insert(name, value);
  }
  // The caller's identity token is for credgate: it reaches the backend only when a policy
  // sets the Authorization header itself.
  if (!context.authorization_set &&
      authorizations.CarriesCallerToken(header[bhttp::field::authorization])) {
    header.erase(bhttp::field::authorization);
    if (count_removed_token) {
      counters_.caller_tokens_removed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // A backend's query credentials go into a copy, so outbound policies never see them.
  const std::string* query_string = &context.request.query_string;
  std::string query_with_credentials;
  if (backend_target.backend) {
    query_with_credentials = context.request.query_string;
    ApplyBackendCredentials(backend_target.backend->resource, header, query_with_credentials);
    query_string = &query_with_credentials;
  }
  header.target(http::ComposeTarget(service->base_path, service->query, remainder, *query_string));
  header.version(11);
  header.erase(policy::kTraceHeader);
  call.upstream.origin = service->origin;
  call.upstream.client_certificate = context.backend_client_certificate;
  return call;
}

awaitable<Status> Gateway::ForwardFromPolicy(http::ServerExchange& exchange,
                                             const runtime::Snapshot& snapshot,
                                             const Route& route,
                                             const RequestAuthorizations& authorizations,
                                             const policy::ForwardRequestSpec& spec,
                                             policy::PolicyContext& context) {
  const std::string& request_id = exchange.info().request_id;
  Result<BackendCall> call =
      BackendCallFromContext(snapshot, route, context, authorizations, request_id);
  if (!call.ok()) {
    const bool missing = call.error().code == ErrorCode::kNotFound;
    co_return MakeError(ErrorCode::kInternal, call.error().message,
                        missing ? "BackendNotFound" : "InvalidBackendUrl");
  }
  http::Upstream upstream = call->upstream;
  if (spec.timeout_set) upstream.response_timeout = spec.timeout;
  http::RequestHeader header = std::move(call->header);

  // The body is buffered (the pipeline reads it), so every attempt sends the same one.
  const std::string* body =
      context.request_body_set || !context.request.body.empty() ? &context.request.body : nullptr;
  http::UpstreamResponse response;
  for (int redirects = 0;; ++redirects) {
    // ProxyRequest() takes the header, so a copy is kept to build the request after a redirect.
    std::optional<http::RequestHeader> sent;
    if (spec.follow_redirects) sent = header;
    std::string sent_authorization;
    std::optional<http::RequestHeader> replay;
    if (!authorizations.empty()) {
      sent_authorization = std::string(header[bhttp::field::authorization]);
      if (IsReplayable(header.method(), body != nullptr && !body->empty())) replay = header;
    }
    auto proxied = co_await upstreams_.ProxyRequest(exchange, upstream, std::move(header), body);
    if (proxied.ok() && proxied->status() == 401 && !authorizations.empty()) {
      proxied = co_await HandleRejectedToken(exchange, upstreams_, upstream, *services_.tokens,
                                             authorizations, std::move(sent_authorization),
                                             std::move(replay), std::move(proxied).value(),
                                             rejected_tokens_);
    }
    if (!proxied.ok()) {
      counters_.backend_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn(
          "backend request of forward-request failed request_id={} api={} operation={}: {}",
          request_id, route.api->resource.id, route.operation->resource.id,
          proxied.error().message);
      co_return ForwardRequestError(proxied.error());
    }
    response = std::move(proxied).value();
    if (!sent || redirects == kMaxRedirects || !IsFollowedRedirect(response.status())) break;
    const std::string_view location = response.header()[bhttp::field::location];
    if (location.empty()) break;
    auto next = FollowRedirect(upstream.origin, *sent, response.status(), location);
    if (!next.ok()) {
      // The caller receives the redirect as the backend sent it.
      spdlog::warn("redirect not followed request_id={} api={} operation={}: {}", request_id,
                   route.api->resource.id, route.operation->resource.id, next.error().message);
      break;
    }
    upstream.origin = std::move(next->origin);
    header = std::move(next->header);
    // An empty replacement body, because without one the proxy would take the framing of the
    // caller's request, whose body was already read.
    static const std::string kNoBody;
    if (!next->keeps_body) body = &kNoBody;
    // Closes the connection of the redirect response before the next request.
    response = http::UpstreamResponse();
  }

  policy::ResponseState received;
  received.status_code = response.status();
  received.reason = std::string(response.header().reason());
  for (const auto& field : response.header()) {
    // The framing is set again for the body the caller receives.
    if (field.name() == bhttp::field::content_length ||
        field.name() == bhttp::field::transfer_encoding) {
      continue;
    }
    received.headers.Append(field.name_string(), std::string(field.value()));
  }
  Result<std::string> received_body =
      co_await upstreams_.ReadResponseBody(std::move(response), kMaxPolicyBodyBytes);
  if (!received_body.ok()) {
    counters_.backend_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("backend response body not read request_id={} api={} operation={}: {}",
                 request_id, route.api->resource.id, route.operation->resource.id,
                 received_body.error().message);
    const bool too_large = received_body.error().code == ErrorCode::kResourceExhausted;
    co_return MakeError(ErrorCode::kBadGateway,
                        too_large ? "The backend response is larger than 4 MiB, the most that "
                                    "a forward-request inside retry or limit-concurrency reads"
                                  : "The backend response could not be read",
                        "BackendConnectionFailure");
  }
  received.body = std::move(received_body).value();
  // The executor then fails the statement with reason BackendError.
  if (spec.fail_on_error_status_code && received.status_code >= 400 &&
      received.status_code <= 599) {
    counters_.backend_error_statuses.fetch_add(1, std::memory_order_relaxed);
  }
  context.response = std::move(received);
  context.backend_responded = true;
  co_return OkStatus();
}

}  // namespace credgate::gateway
