// TokenManager: the in-memory owner of every connection's current TokenSet, read on each
// gateway request, and the single place that refreshes tokens.
//
// A connection key is "<provider id>/<connection id>", for example "github/alice". The
// manager finds the connection's provider through the part before '/', among the providers
// given to SetProvider.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"
#include "credentials/model.h"
#include "credentials/token_client.h"

namespace credgate::credentials {

// Storage for refreshed tokens and connection errors, implemented by the store module. The
// manager calls it only from coroutines and never while holding a lock.
class TokenPersistence {
 public:
  virtual ~TokenPersistence() = default;
  // Stores `tokens` as the connection's current tokens and its status as kConnected.
  virtual boost::asio::awaitable<Status> SaveTokens(const std::string& connection_key,
                                                    const TokenSet& tokens) = 0;
  // Sets the connection's status to kError with `error`.
  virtual boost::asio::awaitable<void> MarkConnectionError(const std::string& connection_key,
                                                           ConnectionError error) = 0;
};

// Thread-safe: every method may be called from coroutines on several threads. No lock is held
// across a suspension point.
//
// Refresh: GetAccessToken returns the cached token without I/O while it is valid for longer
// than the refresh margin. The margin is Options::refresh_margin, or half the token's
// lifetime when that is shorter, so that a 60-second token is not refreshed on every request.
// A token without a known expiry is never refreshed proactively. Past the margin, one refresh
// per connection runs at a time, in a coroutine of its own on the executor of the request that
// started it, and concurrent requests wait for it and share its result. A refreshed TokenSet
// is saved through TokenPersistence before any request receives it.
//
// Failures: invalid_grant, or an expired token without a refresh token, sets the connection's
// status to kError with code ReloginRequired and stops refreshing until SetTokens. A transient
// failure (token_response.h) returns the old access token while it is valid, else kUnavailable,
// and no new attempt starts for Options::transient_retry_delay. Any other failure marks the
// connection kError with code RefreshFailed and waits Options::failure_retry_delay.
//
// Lifetime: `client`, `persistence` and `clock` must outlive the manager, and the manager must
// outlive every refresh it started, so destroy it only after the executors that run its
// coroutines have stopped.
class TokenManager {
 public:
  struct Options {
    std::chrono::seconds refresh_margin{60};
    std::chrono::seconds transient_retry_delay{5};
    std::chrono::seconds failure_retry_delay{60};
  };

  struct ConnectionState {
    ConnectionStatus status = ConnectionStatus::kConnected;
    ConnectionError error;  // Set when status is kError.
  };

  // Running totals, for metrics.
  struct Counters {
    uint64_t refreshes = 0;          // Refreshes that returned and saved a new TokenSet.
    uint64_t refresh_failures = 0;   // Refreshes or saves that failed, for any reason.
    uint64_t relogins_required = 0;  // Connections set to ReloginRequired.
  };

  TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock);
  TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock,
               Options options);
  ~TokenManager();

  TokenManager(const TokenManager&) = delete;
  TokenManager& operator=(const TokenManager&) = delete;

  // Adds or replaces a provider (non-null). Later refreshes of its connections use the new
  // settings.
  void SetProvider(std::shared_ptr<const ProviderConfig> provider);
  void RemoveProvider(const std::string& provider_id);

  // Marks a connection as a client credentials connection with its own settings (non-null,
  // grant kClientCredentials), which replace its provider's. Such a connection has no refresh
  // token: where another connection would refresh, the manager requests a new token with these
  // settings. Remove() forgets them.
  void SetClientCredentials(const std::string& connection_key,
                            std::shared_ptr<const ProviderConfig> provider);

  // Sets a connection's tokens after a login or when loading the store, resets its status to
  // kConnected and clears any refresh backoff. A refresh already running for the connection
  // still completes for its waiters, but its result no longer replaces these tokens.
  void SetTokens(const std::string& connection_key, TokenSet tokens);
  void Remove(const std::string& connection_key);

  // Returns the connection's current tokens, refreshing them first when needed.
  // Errors: kNotFound for an unknown connection. kFailedPrecondition when a new login is
  // needed (reason ReloginRequired) or the provider is not registered. kUnavailable when the
  // token expired and the provider or the store is unavailable. For other refresh failures,
  // the provider's error, and the connection's error code becomes RefreshFailed.
  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> GetAccessToken(
      std::string connection_key);

  std::optional<ConnectionState> GetState(const std::string& connection_key) const;
  Counters GetCounters() const;

 private:
  struct Flight;
  struct Entry;
  struct RefreshJob;
  struct Decision;

  Decision Decide(const std::string& key, TimePoint now, const boost::asio::any_io_executor& ex);
  boost::asio::awaitable<void> RunRefresh(std::string key, std::shared_ptr<RefreshJob> job);
  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> SaveRefreshed(
      const std::string& key, const RefreshJob& job, std::shared_ptr<const TokenSet> tokens);
  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> HandleFailure(
      const std::string& key, const RefreshJob& job, Error error);
  void Complete(const std::string& key, const RefreshJob& job,
                Result<std::shared_ptr<const TokenSet>> outcome);
  Entry* FindCurrent(const std::string& key, uint64_t generation);  // Requires mutex_.
  // Returns the connection's client credentials settings, else its provider, else null.
  std::shared_ptr<const ProviderConfig> FindProvider(const std::string& key) const;  // mutex_.

  TokenClient& client_;
  TokenPersistence& persistence_;
  const Clock& clock_;
  const Options options_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const ProviderConfig>> providers_;
  // Settings of client credentials connections, by connection key.
  std::unordered_map<std::string, std::shared_ptr<const ProviderConfig>> client_credentials_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
  uint64_t next_generation_ = 1;

  std::atomic<uint64_t> refreshes_{0};
  std::atomic<uint64_t> refresh_failures_{0};
  std::atomic<uint64_t> relogins_required_{0};
};

}  // namespace credgate::credentials
