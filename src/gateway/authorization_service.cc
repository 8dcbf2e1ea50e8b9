#include "gateway/authorization_service.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "credentials/access_policy.h"
#include "credentials/token_manager.h"
#include "identity/validator.h"
#include "policy/value.h"
#include "runtime/audit_log.h"

namespace credgate::gateway {

using boost::asio::awaitable;

namespace {

credentials::CallerClaims ToCallerClaims(const identity::CallerIdentity& caller) {
  credentials::CallerClaims claims;
  claims.object_id = caller.object_id;
  claims.tenant_id = caller.tenant_id;
  claims.groups = caller.groups;
  claims.groups_known = !caller.groups_overage;
  claims.app_id = caller.app_id;
  return claims;
}

}  // namespace

AuthorizationService::AuthorizationService(runtime::Services& services)
    : services_(services), managed_identity_tokens_(services) {
  if (services.http_client != nullptr && services.clock != nullptr) {
    // The clock outlives the service, so the shared pointer does not own it.
    std::shared_ptr<const Clock> clock(services.clock, [](const Clock*) {});
    openid_configs_ =
        std::make_unique<identity::OpenIdConfigCache>(*services.http_client, std::move(clock));
  }
}

std::shared_ptr<const identity::OpenIdConfiguration> AuthorizationService::FindOpenIdConfiguration(
    std::string_view url) {
  return openid_configs_ ? openid_configs_->Find(url) : nullptr;
}

awaitable<Result<std::shared_ptr<const identity::OpenIdConfiguration>>>
AuthorizationService::GetOpenIdConfiguration(const std::string& url, bool unknown_kid) {
  if (!openid_configs_) co_return co_await PolicyServices::GetOpenIdConfiguration(url, unknown_kid);
  co_return co_await openid_configs_->Get(url, unknown_kid);
}

awaitable<Result<http::ClientResponse>> AuthorizationService::SendRequest(
    http::ClientRequest request) {
  if (services_.http_client == nullptr) {
    co_return co_await PolicyServices::SendRequest(std::move(request));
  }
  co_return co_await services_.http_client->Send(std::move(request));
}

awaitable<void> AuthorizationService::SendOneWayRequest(http::ClientRequest request) {
  http::HttpClient* client = services_.http_client;
  if (client == nullptr) co_return;
  // The send owns its request and uses only the process-wide client, so it may outlive the
  // request that started it.
  auto send = [](http::HttpClient* client, http::ClientRequest request) -> awaitable<void> {
    const std::string url = request.url;
    Result<http::ClientResponse> response = co_await client->Send(std::move(request));
    if (!response.ok()) {
      spdlog::warn("send-one-way-request to {} failed: {}", url, response.error().message);
    }
  };
  auto executor = co_await boost::asio::this_coro::executor;
  boost::asio::co_spawn(executor, send(client, std::move(request)), boost::asio::detached);
}

awaitable<Result<Secret>> AuthorizationService::GetManagedIdentityToken(std::string resource,
                                                                        std::string client_id) {
  if (services_.token_client == nullptr || services_.clock == nullptr) {
    co_return co_await PolicyServices::GetManagedIdentityToken(std::move(resource),
                                                               std::move(client_id));
  }
  co_return co_await managed_identity_tokens_.Get(std::move(resource), std::move(client_id));
}

TimePoint AuthorizationService::Now() const {
  return services_.clock != nullptr ? services_.clock->Now() : PolicyServices::Now();
}

awaitable<Result<policy::Value>> AuthorizationService::GetAuthorizationContext(
    const policy::AuthorizationContextRequest& request, policy::PolicyContext& context) {
  Result<IssuedToken> issued = co_await Issue(request, context);
  if (!issued.ok()) co_return std::move(issued).take_error();
  const credentials::TokenSet& set = *issued->tokens;
  co_return policy::Value(
      policy::MakeAuthorization(issued->tokens, set.access_token.Expose(), set.response));
}

awaitable<Result<IssuedToken>> AuthorizationService::Issue(
    const policy::AuthorizationContextRequest& request, policy::PolicyContext& context) {
  auto snapshot = services_.config->Current();
  const std::string key = runtime::ConnectionKey(request.provider_id, request.authorization_id);
  auto connection = snapshot->connections.find(key);
  if (!snapshot->providers.contains(request.provider_id) ||
      connection == snapshot->connections.end()) {
    counters_.not_found.fetch_add(1, std::memory_order_relaxed);
    co_return MakeError(ErrorCode::kNotFound,
                        "authorization provider '" + request.provider_id +
                            "' or its authorization '" + request.authorization_id +
                            "' was not found",
                        "AuthorizationNotFound");
  }

  // With a JWT, `caller` is filled only when the decision cache has no entry for the pair.
  credentials::CallerClaims caller;
  std::shared_ptr<const identity::CallerIdentity> verified;
  if (request.identity_type == policy::IdentityType::kJwt) {
    if (request.identity_token.empty()) {
      counters_.invalid_identity.fetch_add(1, std::memory_order_relaxed);
      co_return MakeError(ErrorCode::kUnauthenticated,
                          "the request carries no identity token: send the caller's JWT as "
                          "'Authorization: Bearer <token>'",
                          "IdentityTokenMissing");
    }
    // Fast path: a token seen before is answered from the validator's cache without a frame.
    auto identity = services_.validator->ValidateCached(request.identity_token);
    if (!identity.ok() && identity.error().code == ErrorCode::kUnavailable) {
      identity = co_await services_.validator->Validate(request.identity_token);
    }
    if (!identity.ok()) {
      counters_.invalid_identity.fetch_add(1, std::memory_order_relaxed);
      const Error& error = identity.error();
      spdlog::info("caller token rejected request_id={} connection={}: {}", context.request_id,
                   key, error.message);
      co_return MakeError(error.code == ErrorCode::kUnavailable ? ErrorCode::kUnavailable
                                                                : ErrorCode::kUnauthenticated,
                          "invalid identity token: " + error.message,
                          error.reason.empty() ? "InvalidIdentityToken" : error.reason);
    }
    verified = std::move(identity).value();
  } else {
    const auto& managed = services_.settings.managed_identity;
    if (!managed) {
      counters_.access_denied.fetch_add(1, std::memory_order_relaxed);
      co_return MakeError(ErrorCode::kPermissionDenied,
                          "identity-type 'managed' needs the gateway's managed identity: set "
                          "managedIdentity (tenantId, objectId) in the configuration",
                          "ManagedIdentityNotConfigured");
    }
    caller.tenant_id = managed->first;
    caller.object_id = managed->second;
  }

  if (!verified || !decisions_.Allowed(verified, connection->second)) {
    if (verified) caller = ToCallerClaims(*verified);
    auto matched = connection->second->access_policies.Match(caller, key);
    if (!matched.ok()) {
      counters_.access_denied.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("caller denied request_id={} connection={} tenant={} object={}: {}",
                   context.request_id, key, caller.tenant_id, caller.object_id,
                   matched.error().message);
      co_return matched.error();
    }
    if (verified) decisions_.RememberAllowed(verified, connection->second);
  }

  auto tokens = co_await services_.tokens->GetAccessToken(key);
  if (!tokens.ok()) {
    counters_.token_unavailable.fetch_add(1, std::memory_order_relaxed);
    const Error& error = tokens.error();
    // The provider's own error stays in the log: it may name internal addresses, so the caller
    // gets the connection and what to do.
    spdlog::warn("access token unavailable request_id={} connection={} reason={}: {}",
                 context.request_id, key, error.reason, error.message);
    if (error.code == ErrorCode::kNotFound) {
      co_return MakeError(ErrorCode::kUnavailable,
                          "authorization '" + key +
                              "' is not connected: a user must sign in through a login link",
                          "AuthorizationNotConnected");
    }
    if (error.code == ErrorCode::kFailedPrecondition) {
      co_return MakeError(ErrorCode::kUnavailable,
                          "authorization '" + key +
                              "' needs a new sign-in through a login link; its status on the "
                              "management API gives the provider's reason",
                          error.reason.empty() ? "ReloginRequired" : error.reason);
    }
    co_return MakeError(ErrorCode::kUnavailable,
                        "the access token of authorization '" + key +
                            "' is not available because its credential provider could not be "
                            "reached or failed; retry later",
                        error.reason.empty() ? "TokenUnavailable" : error.reason);
  }
  counters_.granted.fetch_add(1, std::memory_order_relaxed);
  if (services_.audit != nullptr) {
    // The caller and connection of each token handed out. The audit log never contains the token.
    runtime::TokenIssuedEvent event;
    event.request_id = context.request_id;
    event.connection = key;
    event.identity_type = request.identity_type == policy::IdentityType::kJwt ? "jwt" : "managed";
    event.caller_tenant_id = verified ? verified->tenant_id : caller.tenant_id;
    event.caller_object_id = verified ? verified->object_id : caller.object_id;
    event.caller_app_id = verified ? verified->app_id : caller.app_id;
    services_.audit->RecordTokenIssued(event);
  }
  IssuedToken issued;
  issued.connection_key = key;
  issued.tokens = std::move(tokens).value();
  co_return issued;
}

}  // namespace credgate::gateway
