// What the gateway does when a backend responds with HTTP 401 to a connection token: the gateway
// remembers which tokens get-authorization-context put into a request and, when the backend
// rejects the one the request's Authorization header carries, forces one refresh of that
// connection (TokenManager::Refresh with kRejectedByBackend, single-flight), then sends the
// request once more with the new token when that is safe.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "credentials/token_manager.h"
#include "gateway/authorization_service.h"
#include "http/proxy.h"
#include "policy/trace.h"

namespace credgate::gateway {

// The PolicyServices of one request: forwards to AuthorizationService and records each token it
// issues. Not thread-safe: it belongs to one request.
class RequestAuthorizations final : public policy::PolicyServices {
 public:
  explicit RequestAuthorizations(AuthorizationService& service) : service_(service) {}

  boost::asio::awaitable<Result<policy::Value>> GetAuthorizationContext(
      const policy::AuthorizationContextRequest& request, policy::PolicyContext& context) override;

  std::shared_ptr<const identity::OpenIdConfiguration> FindOpenIdConfiguration(
      std::string_view url) override {
    return service_.FindOpenIdConfiguration(url);
  }
  boost::asio::awaitable<Result<std::shared_ptr<const identity::OpenIdConfiguration>>>
  GetOpenIdConfiguration(const std::string& url, bool unknown_kid) override {
    return service_.GetOpenIdConfiguration(url, unknown_kid);
  }
  TimePoint Now() const override { return service_.Now(); }
  boost::asio::awaitable<Result<http::ClientResponse>> SendRequest(
      http::ClientRequest request) override {
    return service_.SendRequest(std::move(request));
  }
  boost::asio::awaitable<void> SendOneWayRequest(http::ClientRequest request) override {
    return service_.SendOneWayRequest(std::move(request));
  }
  boost::asio::awaitable<Result<Secret>> GetManagedIdentityToken(std::string resource,
                                                                  std::string client_id) override {
    return service_.GetManagedIdentityToken(std::move(resource), std::move(client_id));
  }

  // Sends the backend request of forward-request inside <retry> or <limit-concurrency>. The
  // gateway sets it for requests whose backend section runs; without it ForwardRequest fails.
  using Forwarder = std::function<boost::asio::awaitable<Status>(
      const policy::ForwardRequestSpec&, policy::PolicyContext&)>;
  void set_forwarder(Forwarder forwarder) { forwarder_ = std::move(forwarder); }
  boost::asio::awaitable<Status> ForwardRequest(const policy::ForwardRequestSpec& spec,
                                                policy::PolicyContext& context) override {
    if (!forwarder_) return PolicyServices::ForwardRequest(spec, context);
    return forwarder_(spec, context);
  }

  // Records this request's statements into `trace` (policy/trace.h); null records nothing.
  void set_trace(std::shared_ptr<policy::PolicyTrace> trace) { trace_ = std::move(trace); }
  policy::PolicyTrace* trace() override { return trace_.get(); }

  bool empty() const { return issued_.empty(); }
  const std::vector<IssuedToken>& issued() const { return issued_; }
  // Reports whether `authorization`, an Authorization header value, carries as its bearer token
  // a caller JWT that get-authorization-context received as identity in this request.
  bool CarriesCallerToken(std::string_view authorization) const;

 private:
  AuthorizationService& service_;
  std::vector<IssuedToken> issued_;
  std::vector<std::string> caller_tokens_;
  std::shared_ptr<policy::PolicyTrace> trace_;
  Forwarder forwarder_;
};

// Returns the token in `issued` that `authorization`, an Authorization header value, carries as
// "Bearer <token>" (scheme case-insensitive, RFC 6750 §2.1), or nullptr.
const IssuedToken* FindBearer(const std::vector<IssuedToken>& issued,
                              std::string_view authorization);

// Reports whether a request may be sent to the backend a second time: its method is idempotent
// (GET, HEAD, OPTIONS, PUT or DELETE; RFC 9110 §9.2.2) and it has no body, because the proxy
// streams a body without keeping it.
bool IsReplayable(boost::beast::http::verb method, bool has_body);

struct RejectedTokenCounters {
  std::atomic<uint64_t> rejected{0};  // Backend 401s to a request carrying an issued token.
  std::atomic<uint64_t> replayed{0};  // Requests sent again with a refreshed token.
};

// Handles the backend's 401 `rejected` to a request whose Authorization header was
// `sent_authorization`. When that header carries a token in `authorizations`, the connection is
// refreshed, and when a new token came and `replay` contains the request header (set only for
// replayable requests), the request is sent again with "Authorization: Bearer <new token>".
// Returns the response to relay: the second one, or `rejected`. Errors are those of
// UpstreamPool::ProxyRequest for the second attempt.
boost::asio::awaitable<Result<http::UpstreamResponse>> HandleRejectedToken(
    http::ServerExchange& exchange, http::UpstreamPool& upstreams, const http::Upstream& upstream,
    credentials::TokenManager& tokens, const RequestAuthorizations& authorizations,
    std::string sent_authorization, std::optional<http::RequestHeader> replay,
    http::UpstreamResponse rejected, RejectedTokenCounters& counters);

}  // namespace credgate::gateway
