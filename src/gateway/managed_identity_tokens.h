// ManagedIdentityTokens: the access tokens that authentication-managed-identity puts into
// requests. credgate has no cloud instance metadata service, so the gateway's own identity is an
// authorization provider with the client credentials grant (RFC 6749 §4.4), named by
// managedIdentity.tokenProvider in the configuration. Each `resource` gets its own token, cached
// until a minute before it expires.
//
// Thread-safe; one instance serves every request.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "common/secret.h"
#include "runtime/services.h"

namespace credgate::gateway {

struct ManagedIdentityCounters {
  std::atomic<uint64_t> issued{0};       // Tokens returned, from the cache or the provider.
  std::atomic<uint64_t> requested{0};    // Token requests sent to the provider.
  std::atomic<uint64_t> failed{0};       // Calls that returned an error.
};

// Returns the scope that requests a token for `resource` from the Microsoft identity platform v2
// and similar servers. That is `resource` itself when it ends in "/.default". Otherwise it is
// `resource` followed by "/.default", or by ".default" when `resource` ends in '/'.
std::string ScopeForResource(std::string_view resource);

class ManagedIdentityTokens {
 public:
  explicit ManagedIdentityTokens(runtime::Services& services) : services_(services) {}

  // Returns an access token for `resource`, from the provider of the user-assigned identity
  // `client_id` (managedIdentity.userAssigned) or, when it is empty, from
  // managedIdentity.tokenProvider. Errors: kInternal with reason
  // ManagedIdentityNotConfigured when no usable provider is configured, kInvalidArgument with
  // reason ManagedIdentityResourceInvalid for an empty resource or one with spaces or control
  // characters, and kUnavailable with reason ManagedIdentityTokenRequestFailed when the token
  // request fails.
  boost::asio::awaitable<Result<Secret>> Get(std::string resource, std::string client_id);

  const ManagedIdentityCounters& counters() const { return counters_; }

 private:
  struct CachedToken {
    Secret access_token;
    TimePoint expires_at;
  };

  // Returns the cached token of `key` when it is valid for at least another minute. A key is
  // the client id (empty for the gateway's own identity), a newline and the resource.
  std::optional<Secret> Find(const std::string& key, TimePoint now);
  void Store(const std::string& key, CachedToken token);

  runtime::Services& services_;
  ManagedIdentityCounters counters_;
  std::mutex mutex_;
  std::map<std::string, CachedToken, std::less<>> cache_;  // Guarded by mutex_.
};

}  // namespace credgate::gateway
