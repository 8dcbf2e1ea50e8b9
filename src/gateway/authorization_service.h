// AuthorizationService: what `get-authorization-context` does at request time. It validates
// the caller's identity (a JWT from a trusted issuer, or the gateway's own managed identity),
// checks the connection's access policies, and returns the connection's current access token
// (refreshed first when it is about to expire) as an Authorization value.
//
// Failures carry the HTTP status the caller gets when the policy has no on-error section:
// 401 invalid or missing identity token, 403 identity not in an access policy, 404 unknown
// provider or connection, 503 provider unreachable or connection not signed in.
//
// Thread-safe; one instance serves every request.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "credentials/access_policy_cache.h"
#include "credentials/model.h"
#include "gateway/managed_identity_tokens.h"
#include "identity/openid_config_cache.h"
#include "policy/executor.h"
#include "runtime/services.h"

namespace credgate::gateway {

// A connection's tokens that get-authorization-context handed to one request.
struct IssuedToken {
  std::string connection_key;
  std::shared_ptr<const credentials::TokenSet> tokens;
};

struct AuthorizationCounters {
  std::atomic<uint64_t> granted{0};
  std::atomic<uint64_t> invalid_identity{0};
  std::atomic<uint64_t> access_denied{0};
  std::atomic<uint64_t> not_found{0};
  std::atomic<uint64_t> token_unavailable{0};
};

class AuthorizationService final : public policy::PolicyServices {
 public:
  // Keeps an OpenID configuration cache for validate-jwt when services.http_client is set.
  explicit AuthorizationService(runtime::Services& services);

  // Returns the Authorization value of the tokens that Issue() returns.
  boost::asio::awaitable<Result<policy::Value>> GetAuthorizationContext(
      const policy::AuthorizationContextRequest& request, policy::PolicyContext& context) override;

  // Checks the caller and returns the connection's current tokens, with the failures above.
  boost::asio::awaitable<Result<IssuedToken>> Issue(
      const policy::AuthorizationContextRequest& request, policy::PolicyContext& context);

  // validate-jwt's <openid-config>, served from one cache shared by every request.
  std::shared_ptr<const identity::OpenIdConfiguration> FindOpenIdConfiguration(
      std::string_view url) override;
  boost::asio::awaitable<Result<std::shared_ptr<const identity::OpenIdConfiguration>>>
  GetOpenIdConfiguration(const std::string& url, bool unknown_kid) override;
  TimePoint Now() const override;
  // send-request and send-one-way-request through services.http_client.
  boost::asio::awaitable<Result<http::ClientResponse>> SendRequest(
      http::ClientRequest request) override;
  boost::asio::awaitable<void> SendOneWayRequest(http::ClientRequest request) override;
  // authentication-managed-identity through ManagedIdentityTokens.
  boost::asio::awaitable<Result<Secret>> GetManagedIdentityToken(std::string resource,
                                                                  std::string client_id) override;

  const AuthorizationCounters& counters() const { return counters_; }
  const ManagedIdentityCounters& managed_identity_counters() const {
    return managed_identity_tokens_.counters();
  }
  const credentials::AccessDecisionCache& decision_cache() const { return decisions_; }

 private:
  runtime::Services& services_;
  std::unique_ptr<identity::OpenIdConfigCache> openid_configs_;  // Null without an HTTP client.
  AuthorizationCounters counters_;
  ManagedIdentityTokens managed_identity_tokens_;
  // Callers already allowed on a connection; see access_policy_cache.h for what invalidates a
  // decision.
  credentials::AccessDecisionCache decisions_{10'000};
};

}  // namespace credgate::gateway
