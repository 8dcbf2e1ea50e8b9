// The policy executor: runs one section of a CompiledPipeline against a request's
// PolicyContext. It is a coroutine because get-authorization-context awaits the gateway's
// credential lookup; every other statement runs without suspending, and a section without
// asynchronous statements never suspends.
//
// Statement failures are results, not exceptions. The executor fills context.last_error, sets
// the JSON error response {"statusCode": N, "message": "..."} with status N, and then runs the
// pipeline's on-error section, whose statements may change that response.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret.h"
#include "http/client.h"
#include "identity/openid_config_cache.h"
#include "policy/context.h"
#include "policy/pipeline.h"
#include "policy/value.h"

namespace credgate::policy {

class PolicyTrace;

struct AuthorizationContextRequest {
  std::string provider_id;
  std::string authorization_id;
  IdentityType identity_type = IdentityType::kManaged;
  // With kJwt: the identity attribute's value, or else the bearer token of the request's
  // Authorization header. Empty when neither is present, or with kManaged.
  std::string identity_token;
};

// The gateway's side of get-authorization-context. Implementations must not block the calling
// thread. On success return the value to store in the context variable, normally
// MakeAuthorization(...). On failure return an Error whose code gives the response status
// through HttpStatusFor (kUnauthenticated 401, kPermissionDenied 403, kNotFound 404,
// kUnavailable 503) and whose reason and message become context.LastError's Reason and Message.
class PolicyServices {
 public:
  virtual ~PolicyServices() = default;
  virtual boost::asio::awaitable<Result<Value>> GetAuthorizationContext(
      const AuthorizationContextRequest& request, PolicyContext& context) = 0;

  // validate-jwt's <openid-config>: returns the configuration loaded for `url` without I/O, or
  // nullptr. The default has none.
  virtual std::shared_ptr<const identity::OpenIdConfiguration> FindOpenIdConfiguration(
      std::string_view url);
  // Loads the configuration for `url` as identity::OpenIdConfigCache::Get() does, without
  // blocking the calling thread. The default fails with kUnavailable.
  virtual boost::asio::awaitable<Result<std::shared_ptr<const identity::OpenIdConfiguration>>>
  GetOpenIdConfiguration(const std::string& url, bool unknown_kid);

  // send-request: sends `request` without blocking the calling thread. The default fails with
  // kUnavailable. Errors: those of http::HttpClient::Send().
  virtual boost::asio::awaitable<Result<http::ClientResponse>> SendRequest(
      http::ClientRequest request);
  // send-one-way-request: starts sending `request` and returns at once; the outcome is only
  // logged. Implementations must not let the send refer to per-request state. The default drops
  // the request.
  virtual boost::asio::awaitable<void> SendOneWayRequest(http::ClientRequest request);

  // authentication-managed-identity: returns an access token for `resource` (an app ID URI or
  // a URL) issued to the gateway's own identity, or with a `client_id` to that user-assigned
  // identity, without blocking the calling thread. The default fails with kInternal (500) and
  // reason ManagedIdentityNotConfigured. Errors carry the status (through HttpStatusFor) and
  // reason that the statement fails with.
  virtual boost::asio::awaitable<Result<Secret>> GetManagedIdentityToken(std::string resource,
                                                                          std::string client_id);

  // forward-request inside <retry> or <limit-concurrency>, or with follow-redirects: sends the
  // request that `context` describes (method, headers, body, backend and path as the policies left them) to the
  // backend, waiting at most `spec.timeout` for the response header when `spec.timeout_set`,
  // follows redirects when `spec.follow_redirects`, reads the whole response into
  // context.response and sets context.backend_responded. It may run several times for one
  // request. Errors carry the status (through HttpStatusFor) and
  // reason that the statement fails with: kDeadlineExceeded with reason Timeout,
  // kBadGateway with reason BackendConnectionFailure. The default fails with kUnavailable.
  virtual boost::asio::awaitable<Status> ForwardRequest(const ForwardRequestSpec& spec,
                                                        PolicyContext& context);

  // The time that token expiry is checked against. The default is the system clock.
  virtual TimePoint Now() const;

  // The trace that records each statement of this request's pipeline (trace.h), or nullptr,
  // the default, to record nothing.
  virtual PolicyTrace* trace() { return nullptr; }
};

enum class ExecutionOutcome {
  kContinue,  // The section finished; after inbound, call the backend.
  kRespond,   // Send context.response now (return-response or an error); skip the backend.
};

// Runs `section` of `pipeline`. After backend, context.forward records whether a forward-request
// requested forwarding, and context.backend_responded whether one inside <retry> or
// <limit-concurrency> already called the backend (PolicyServices::ForwardRequest); outbound
// expects context.response filled from the backend. Running kOnError directly
// (for example after a backend failure that the gateway recorded in context.last_error) returns
// kRespond. The pipeline and services must outlive the returned coroutine.
boost::asio::awaitable<ExecutionOutcome> Execute(const CompiledPipeline& pipeline, Section section,
                                                 PolicyContext& context, PolicyServices& services);

}  // namespace credgate::policy
