// TokenManager: the in-memory owner of every connection's current TokenSet, read on each
// gateway request, and the single place that refreshes tokens.
//
// A connection key is "<provider id>/<connection id>", for example "github/alice". The
// manager finds the connection's provider through the part before '/', among the providers
// given to SetProvider.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/keyed_set.h"
#include "common/random.h"
#include "common/result.h"
#include "credentials/model.h"
#include "credentials/refresh_timing.h"
#include "credentials/token_client.h"

namespace credgate::credentials {

// The outcome of TokenPersistence::ClaimRefresh.
struct RefreshClaim {
  enum class Outcome {
    kClaimed,     // This process may call the token endpoint.
    kBusy,        // Another process is refreshing the connection until `busy_until`.
    kSuperseded,  // The store contains newer tokens than the caller's: `stored`.
  };
  Outcome outcome = Outcome::kClaimed;
  std::shared_ptr<const TokenSet> stored;  // kSuperseded.
  TimePoint busy_until{};                  // kBusy.
  // kClaimed: an earlier refresh attempt was recorded and never finished, so the provider may
  // have rotated the refresh token without the new one being stored.
  bool unfinished_attempt = false;
  std::string unfinished_holder;  // The process that recorded that attempt.
};

// Storage for refreshed tokens and connection errors, implemented by the store module. The
// manager calls it only from coroutines and never while holding a lock.
//
// The refresh claim methods coordinate the processes that share one store. Their defaults fit
// a store that only this process uses: every claim succeeds and a commit is a save.
class TokenPersistence {
 public:
  virtual ~TokenPersistence() = default;
  // Stores `tokens` as the connection's current tokens and its status as kConnected. Returns
  // the version of the stored record.
  virtual boost::asio::awaitable<Result<int64_t>> SaveTokens(const std::string& connection_key,
                                                             const TokenSet& tokens) = 0;
  // Sets the connection's status to kError with `error`.
  virtual boost::asio::awaitable<void> MarkConnectionError(const std::string& connection_key,
                                                           ConnectionError error) = 0;

  // Claims the refresh of a connection whose current tokens have `version`, and records the
  // attempt before the token endpoint is called. Errors: kUnavailable when the store cannot be
  // reached, kNotFound when the tokens are gone.
  virtual boost::asio::awaitable<Result<RefreshClaim>> ClaimRefresh(
      const std::string& connection_key, int64_t version);
  // Stores refreshed tokens if the stored version is still `expected_version`, and ends the
  // claim. Returns the new version. Errors: kConflict when another process stored newer tokens
  // first (LoadTokens reads them), kUnavailable when the store cannot be reached.
  virtual boost::asio::awaitable<Result<int64_t>> CommitRefresh(const std::string& connection_key,
                                                                const TokenSet& tokens,
                                                                int64_t expected_version);
  // Ends a claim without new tokens. `attempt_finished` is true when the token endpoint
  // responded, so no refresh token was rotated, and false when its outcome is unknown.
  virtual boost::asio::awaitable<void> ReleaseRefresh(const std::string& connection_key,
                                                      bool attempt_finished);
  // Reads the connection's stored tokens. Errors: kNotFound, kUnavailable.
  virtual boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> LoadTokens(
      const std::string& connection_key);
};

// The reason a caller other than a request starts a refresh (TokenManager::Refresh).
enum class RefreshTrigger {
  kScheduled,          // The refresh scheduler, ahead of expiry.
  kRejectedByBackend,  // A backend responded with HTTP 401 to a request carrying the access token.
};

// Thread-safe: every method may be called from coroutines on several threads. No lock is held
// across a suspension point.
//
// Refresh: GetAccessToken returns the cached token without I/O until RefreshDueAt
// (refresh_timing.h), which is Options::timing.refresh_margin before expiry. From then on, one
// refresh per connection runs at a time, in a coroutine of its own on the executor of the caller
// that started it. Concurrent callers (requests, the scheduler, a backend 401) wait for it and
// share its result. A refreshed TokenSet is saved through TokenPersistence before any caller
// receives it.
//
// Several processes on one store: before calling the token endpoint, the refresh claims the
// connection through TokenPersistence::ClaimRefresh with the store version of the tokens it
// holds. If the store already has newer tokens, it takes them without calling the provider. If
// another process has the claim, it serves the current token while that token is valid, and
// otherwise polls the store until the other process stores its result (Options::busy_*). The
// commit succeeds only if the stored version is still the one the refresh started from, and a
// commit conflict or an invalid_grant first looks for newer stored tokens. An invalid_grant after
// an earlier attempt that never finished sets the status to kError with code
// RefreshTokenRotationLost, because that attempt's rotated refresh token was never stored.
//
// Failures (token_errors.h):
// - kReloginRequired, or an expired token without a refresh token: the connection's status
//   becomes kError with code ReloginRequired, and nothing is retried until SetTokens.
// - kTransient: the old access token is returned while it is valid, else kUnavailable, and the
//   status stays kConnected.
// - kProviderSettings: status kError with code ProviderSettingsInvalid. SetProvider for the
//   provider ends the backoff, so that fixed settings are tried at the next request.
// - kOther: status kError with code RefreshFailed.
// Every failure but kReloginRequired delays the next attempt by RetryDelay (retry_backoff.h):
// exponential from Options::transient_retry_delay (kTransient) or failure_retry_delay, capped
// at max_retry_delay, with jitter. The connection error's message ends with the provider's
// redacted response body ("Provider response: ...") when there was one.
//
// Lifetime: `client`, `persistence`, `clock` and `random` must outlive the manager, and the
// manager must outlive every refresh it started, so destroy it only after the executors that
// run its coroutines have stopped.
class TokenManager {
 public:
  struct Options {
    RefreshTiming timing;
    std::chrono::seconds transient_retry_delay{5};
    std::chrono::seconds failure_retry_delay{60};
    std::chrono::seconds max_retry_delay{300};
    // Tokens that a refresh forced by a backend 401 returned are not force-refreshed again
    // until they are this old, so that a backend that rejects every token cannot turn each
    // request into a refresh.
    std::chrono::seconds rejected_token_refresh_interval{30};
    // While another process refreshes a connection whose token has expired, callers wait for
    // its result and poll the store this often, for at most busy_wait_limit.
    std::chrono::milliseconds busy_poll_interval{200};
    std::chrono::milliseconds busy_wait_limit{40'000};
    // While another process refreshes a connection whose token is still valid, the token is
    // served and the store is asked again after at most this long.
    std::chrono::milliseconds busy_recheck_interval{1'000};
    // Fault injection for the crash tests: when a refresh reaches this point
    // ("before_token_request" or "after_token_response"), it logs "fault injection: paused at
    // <point>" and never continues. Empty in production.
    std::string fault_pause_point;
  };

  struct ConnectionState {
    ConnectionStatus status = ConnectionStatus::kConnected;
    ConnectionError error;  // Set when status is kError.
  };

  // Running totals, for metrics.
  struct Counters {
    uint64_t refreshes = 0;                  // Refreshes that returned and saved a new TokenSet.
    uint64_t refresh_failures = 0;           // Refreshes or saves that failed, for any reason.
    uint64_t relogins_required = 0;          // Connections set to ReloginRequired.
    uint64_t provider_settings_invalid = 0;  // Refreshes rejected as ProviderSettingsInvalid.
    uint64_t rejected_token_refreshes = 0;   // Refreshes started because of a backend 401.
    uint64_t rejected_token_refreshes_skipped = 0;  // Backend 401s within the interval.
    uint64_t refreshes_adopted = 0;  // Refreshes that took tokens another process stored.
    uint64_t rotations_lost = 0;     // Connections set to RefreshTokenRotationLost.
  };

  // A connection the refresh scheduler may refresh: not ReloginRequired, and with a registered
  // provider.
  struct RefreshCandidate {
    std::string connection_key;
    std::shared_ptr<const TokenSet> tokens;
    std::shared_ptr<const ProviderConfig> provider;
    TimePoint retry_not_before{};  // The end of the backoff after a failure; epoch when none.
    bool refreshing = false;       // A refresh is running.
    bool unsaved = false;          // Refreshed tokens wait to be saved.
    bool used = false;             // A request received the current tokens.
  };

  // Uses OpenSSL's random generator for the backoff jitter.
  TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock);
  TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock,
               Options options);
  TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock,
               RandomSource& random, Options options);
  ~TokenManager();

  TokenManager(const TokenManager&) = delete;
  TokenManager& operator=(const TokenManager&) = delete;

  // Adds or replaces a provider (non-null). Later refreshes of its connections use the new
  // settings, and connections in kError other than ReloginRequired may retry at once.
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
  // Replaces a connection's tokens with ones another process stored, like SetTokens, unless the
  // connection already has tokens of this version or a newer one. Returns whether it replaced.
  bool AdoptStoredTokens(const std::string& connection_key, TokenSet tokens);
  // Sets the status of a connection with tokens to kError with `error` and stops refreshing it
  // until SetTokens, as after invalid_grant, without calling TokenPersistence. For a status
  // loaded from the store.
  void MarkReloginRequired(const std::string& connection_key, ConnectionError error);
  void Remove(const std::string& connection_key);

  // Returns the connection's current tokens, refreshing them first when needed.
  // Errors: kNotFound for an unknown connection. kFailedPrecondition when a new login is
  // needed (reason ReloginRequired) or the provider is not registered. kUnavailable when the
  // token expired and the provider or the store is unavailable. For other refresh failures,
  // the provider's error, with reason ProviderSettingsInvalid for kProviderSettings.
  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> GetAccessToken(
      std::string connection_key);

  // Refreshes the connection's tokens now, unless they are no longer `seen` (another refresh
  // or a login replaced them), in which case the current tokens are returned. Joins a refresh
  // that is already running, and honours the backoff after a failure by returning the
  // current tokens while they are valid. With kRejectedByBackend, tokens that an earlier
  // backend 401 refresh returned are kept until Options::rejected_token_refresh_interval has
  // passed. Returns the same errors as GetAccessToken. A caller can tell whether the tokens
  // changed by comparing the result with `seen`.
  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> Refresh(
      std::string connection_key, std::shared_ptr<const TokenSet> seen, RefreshTrigger trigger);

  // Returns every connection the refresh scheduler may refresh, in no particular order.
  std::vector<RefreshCandidate> ListRefreshCandidates() const;

  // Change feed, so that the refresh scheduler keeps its own index of due times and never lists
  // every connection. A subscriber receives the key of each connection whose refresh inputs
  // (the RefreshCandidate fields, or whether it is a candidate at all) may have changed since
  // it last took that key. A new subscription starts with every current connection, read
  // straight from the manager's table rather than copied, so a subscriber created before the
  // store is loaded queues no key of the load.
  using ChangeSubscription = uint64_t;
  ChangeSubscription SubscribeChanges();
  void UnsubscribeChanges(ChangeSubscription subscription);
  // Takes up to `max` changed connections, oldest change first, and returns each one's current
  // RefreshCandidate; a connection that is no longer a candidate (removed, ReloginRequired, or
  // without a registered provider) has null `tokens` and `provider`. The mutex is held for the
  // `max` lookups only, so callers bound the pause of other threads through `max`. A key may
  // appear more than once. Fewer than `max` means that nothing else is pending.
  std::vector<RefreshCandidate> TakeChanges(ChangeSubscription subscription, size_t max);

  // The outcome of one refresh, counted per provider for metrics.
  enum class RefreshOutcome {
    kRefreshed,                // New tokens were saved.
    kAdopted,                  // Tokens that another process stored were taken.
    kTransientFailure,         // The provider or the store was unavailable, so it is retried.
    kReloginRequired,          // The refresh token was rejected.
    kProviderSettingsInvalid,  // The provider rejected the client's settings.
    kFailed,                   // Any other failure, a failed save included.
  };
  static constexpr size_t kRefreshOutcomeCount = 6;
  using RefreshOutcomeCounts = std::array<uint64_t, kRefreshOutcomeCount>;
  // Returns the label value of `outcome`, for example "relogin_required".
  static std::string_view RefreshOutcomeName(RefreshOutcome outcome);
  // Returns, for each provider id with at least one finished refresh, the number of refreshes
  // that ended with each outcome, indexed by RefreshOutcome.
  std::map<std::string, RefreshOutcomeCounts> RefreshOutcomesByProvider() const;

  std::optional<ConnectionState> GetState(const std::string& connection_key) const;
  // Returns the store version of the connection's current tokens; nullopt without tokens.
  std::optional<int64_t> TokenVersion(const std::string& connection_key) const;
  // Returns how many connections have tokens.
  size_t ConnectionsWithTokens() const;
  Counters GetCounters() const;
  const Options& options() const { return options_; }

 private:
  enum class Cause { kRequest, kScheduled, kRejectedByBackend };
  struct Flight;
  struct Entry;
  struct RefreshJob;
  struct Decision;

  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> Run(std::string key, Cause cause,
                                                                      const TokenSet* seen);
  Decision Decide(const std::string& key, TimePoint now, const boost::asio::any_io_executor& ex,
                  Cause cause, const TokenSet* seen);
  bool NeedsRefresh(const std::string& key, Entry& entry, TimePoint now, Cause cause,
                    const TokenSet* seen);  // Requires mutex_.
  void MarkUsed(const std::string& key, const std::shared_ptr<const TokenSet>& tokens);
  boost::asio::awaitable<void> RunRefresh(std::string key, std::shared_ptr<RefreshJob> job);
  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> SaveRefreshed(
      const std::string& key, const RefreshJob& job, std::shared_ptr<const TokenSet> tokens);
  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> HandleFailure(
      const std::string& key, const RefreshJob& job, Error error, const RefreshClaim* claim);
  boost::asio::awaitable<std::optional<Result<std::shared_ptr<const TokenSet>>>> ClaimOrWait(
      const std::string& key, const RefreshJob& job, RefreshClaim& claim);
  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> RequestAndSave(
      const std::string& key, const RefreshJob& job, const RefreshClaim& claim);
  Result<std::shared_ptr<const TokenSet>> Adopt(const std::string& key, const RefreshJob& job,
                                                std::shared_ptr<const TokenSet> stored);
  boost::asio::awaitable<void> PauseForFaultInjection(const std::string& key,
                                                      std::string_view point);
  void Complete(const std::string& key, const RefreshJob& job,
                Result<std::shared_ptr<const TokenSet>> outcome);
  static std::string_view CauseName(Cause cause);
  Entry* FindCurrent(const std::string& key, uint64_t generation);  // Requires mutex_.
  // Returns the connection's client credentials settings, else its provider, else null.
  std::shared_ptr<const ProviderConfig> FindProvider(const std::string& key) const;  // mutex_.
  // Counts a failure and returns the end of its backoff. Requires mutex_.
  TimePoint NextAttemptAt(Entry& entry, TimePoint now, std::chrono::seconds base);
  // Counts `outcome` for the provider of connection `key`. Takes outcomes_mutex_, which may be
  // taken while mutex_ is held but never the other way round.
  void CountOutcome(const std::string& key, RefreshOutcome outcome);
  // Queues `key` for every change subscriber. Requires mutex_.
  void NoteChanged(std::string_view key);
  // Fills `candidate` from the entry of `key`, or leaves its tokens null when the connection
  // is not a refresh candidate. Requires mutex_.
  void FillCandidate(const std::string& key, const Entry* entry,
                     RefreshCandidate& candidate) const;

  TokenClient& client_;
  TokenPersistence& persistence_;
  const Clock& clock_;
  RandomSource& random_;
  const Options options_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const ProviderConfig>> providers_;
  // Settings of client credentials connections, by connection key.
  std::unordered_map<std::string, std::shared_ptr<const ProviderConfig>> client_credentials_;
  // By connection key, each entry in one heap block with its key (common/keyed_set.h).
  KeyedSet<Entry> entries_;
  uint64_t next_generation_ = 1;
  // The changes a subscriber has not taken yet: first every connection of entries_, in the
  // set's order, then the keys changed since.
  struct ChangeQueue {
    bool full_pass = true;      // Connections of entries_ remain to be reported.
    bool pass_started = false;  // Until it starts, the pass reports every change itself.
    // entries_.rehashes() when the pass started. The pass restarts when the count changed.
    uint64_t rehashes = 0;
    KeyedSet<Entry>::const_iterator next;  // The next entry to report, once the pass started.
    std::deque<std::string> keys;
  };
  // Moves the pass of every subscriber off `entry`, which is about to be erased. Requires
  // mutex_.
  void StepPassesOff(const Entry* entry);
  // Reports up to `max` connections of the full pass into `changes`. Requires mutex_.
  void TakeFullPass(ChangeQueue& queue, size_t max, std::vector<RefreshCandidate>& changes);

  std::unordered_map<ChangeSubscription, ChangeQueue> change_queues_;
  ChangeSubscription next_subscription_ = 1;

  mutable std::mutex outcomes_mutex_;
  std::map<std::string, RefreshOutcomeCounts> outcomes_;  // By provider id.

  std::atomic<uint64_t> refreshes_{0};
  std::atomic<uint64_t> refresh_failures_{0};
  std::atomic<uint64_t> relogins_required_{0};
  std::atomic<uint64_t> provider_settings_invalid_{0};
  std::atomic<uint64_t> rejected_token_refreshes_{0};
  std::atomic<uint64_t> rejected_token_refreshes_skipped_{0};
  std::atomic<uint64_t> refreshes_adopted_{0};
  std::atomic<uint64_t> rotations_lost_{0};
};

}  // namespace credgate::credentials
