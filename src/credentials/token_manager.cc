#include "credentials/token_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <vector>

#include "credentials/token_response.h"

namespace credgate::credentials {

namespace {

using TokenResult = Result<std::shared_ptr<const TokenSet>>;
// Capacity 1, so the completion signal is kept when it arrives before the waiter receives.
using WakeChannel = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;

bool IsUsable(const TokenSet& tokens, TimePoint now) {
  return !tokens.expires_at || now < *tokens.expires_at;
}

}  // namespace

// One refresh in progress and the requests waiting for it. Fields are guarded by mutex_.
struct TokenManager::Flight {
  std::vector<std::shared_ptr<WakeChannel>> waiters;
  std::optional<TokenResult> outcome;  // Set once, when the refresh completes.
};

struct TokenManager::Entry {
  std::shared_ptr<const TokenSet> tokens;
  // Tokens a refresh returned that SaveTokens failed to store. They are saved before use,
  // because after a refresh token rotation the old refresh token may no longer work.
  std::shared_ptr<const TokenSet> unsaved;
  ConnectionState state;
  bool refresh_blocked = false;  // Until SetTokens, after ReloginRequired.
  TimePoint next_attempt_at{};
  std::optional<Error> last_failure;
  std::shared_ptr<Flight> flight;
  uint64_t generation = 0;
};

// The inputs of one refresh coroutine, copied out of the entry under the lock.
struct TokenManager::RefreshJob {
  std::shared_ptr<Flight> flight;
  uint64_t generation = 0;
  std::shared_ptr<const ProviderConfig> provider;
  std::shared_ptr<const TokenSet> current;
  std::shared_ptr<const TokenSet> unsaved;
};

// The result of looking at an entry: a result to return now, or a flight to wait for.
struct TokenManager::Decision {
  std::optional<TokenResult> ready;
  std::shared_ptr<Flight> flight;
  std::shared_ptr<WakeChannel> channel;
  std::shared_ptr<RefreshJob> job;  // Set when this request starts the refresh.
};

TokenManager::TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock)
    : TokenManager(client, persistence, clock, Options()) {}

TokenManager::TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock,
                           Options options)
    : client_(client), persistence_(persistence), clock_(clock), options_(options) {}

TokenManager::~TokenManager() = default;

void TokenManager::SetProvider(std::shared_ptr<const ProviderConfig> provider) {
  std::lock_guard lock(mutex_);
  const std::string id = provider->id;
  providers_[id] = std::move(provider);
}

void TokenManager::RemoveProvider(const std::string& provider_id) {
  std::lock_guard lock(mutex_);
  providers_.erase(provider_id);
}

void TokenManager::SetClientCredentials(const std::string& connection_key,
                                        std::shared_ptr<const ProviderConfig> provider) {
  std::lock_guard lock(mutex_);
  client_credentials_[connection_key] = std::move(provider);
}

std::shared_ptr<const ProviderConfig> TokenManager::FindProvider(const std::string& key) const {
  if (auto it = client_credentials_.find(key); it != client_credentials_.end()) return it->second;
  auto it = providers_.find(key.substr(0, key.find('/')));
  return it == providers_.end() ? nullptr : it->second;
}

void TokenManager::SetTokens(const std::string& connection_key, TokenSet tokens) {
  auto entry = std::make_unique<Entry>();
  entry->tokens = std::make_shared<const TokenSet>(std::move(tokens));
  std::lock_guard lock(mutex_);
  entry->generation = next_generation_++;
  entries_[connection_key] = std::move(entry);
}

void TokenManager::Remove(const std::string& connection_key) {
  std::lock_guard lock(mutex_);
  entries_.erase(connection_key);
  client_credentials_.erase(connection_key);
}

std::optional<TokenManager::ConnectionState> TokenManager::GetState(
    const std::string& connection_key) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(connection_key);
  if (it == entries_.end()) return std::nullopt;
  return it->second->state;
}

TokenManager::Counters TokenManager::GetCounters() const {
  return Counters{refreshes_.load(), refresh_failures_.load(), relogins_required_.load()};
}

TokenManager::Entry* TokenManager::FindCurrent(const std::string& key, uint64_t generation) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second->generation != generation) return nullptr;
  return it->second.get();
}

TokenManager::Decision TokenManager::Decide(const std::string& key, TimePoint now,
                                            const boost::asio::any_io_executor& executor) {
  Decision decision;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    decision.ready = MakeError(ErrorCode::kNotFound, "connection '" + key +
                                                         "' has no tokens; sign in through a "
                                                         "login link for it");
    return decision;
  }
  Entry& entry = *it->second;
  if (entry.refresh_blocked) {
    decision.ready = MakeError(ErrorCode::kFailedPrecondition, entry.state.error.message,
                               entry.state.error.code);
    return decision;
  }

  const TokenSet& tokens = *entry.tokens;
  bool needs_refresh = entry.unsaved != nullptr;
  if (tokens.expires_at) {
    const auto lifetime = *tokens.expires_at - tokens.obtained_at;
    const auto margin = std::min<TimePoint::duration>(options_.refresh_margin, lifetime / 2);
    needs_refresh = needs_refresh || now + margin >= *tokens.expires_at;
  }
  if (!needs_refresh) {
    decision.ready = TokenResult(entry.tokens);
    return decision;
  }

  if (entry.flight == nullptr) {
    // Without a refresh token there is nothing to try until the token expires, except for a
    // client credentials connection, which requests a new token.
    if (entry.unsaved == nullptr && tokens.refresh_token.empty() &&
        !client_credentials_.contains(key) && IsUsable(tokens, now)) {
      decision.ready = TokenResult(entry.tokens);
      return decision;
    }
    if (now < entry.next_attempt_at) {
      // Backing off after a failure: serve the old token while it lasts.
      if (IsUsable(tokens, now)) {
        decision.ready = TokenResult(entry.tokens);
      } else {
        decision.ready = entry.last_failure.value_or(
            MakeError(ErrorCode::kUnavailable,
                      "token refresh of connection '" + key + "' failed recently; retry later"));
      }
      return decision;
    }

    const std::string provider_id = key.substr(0, key.find('/'));
    std::shared_ptr<const ProviderConfig> provider = FindProvider(key);
    if (provider == nullptr) {
      if (IsUsable(tokens, now)) {
        decision.ready = TokenResult(entry.tokens);
      } else {
        decision.ready = MakeError(ErrorCode::kFailedPrecondition,
                                   "cannot refresh connection '" + key + "': provider '" +
                                       provider_id + "' is not registered; register it again");
      }
      return decision;
    }

    entry.flight = std::make_shared<Flight>();
    decision.job = std::make_shared<RefreshJob>(
        RefreshJob{entry.flight, entry.generation, std::move(provider), entry.tokens, entry.unsaved});
  }

  decision.flight = entry.flight;
  decision.channel = std::make_shared<WakeChannel>(executor, 1);
  entry.flight->waiters.push_back(decision.channel);
  return decision;
}

boost::asio::awaitable<TokenResult> TokenManager::GetAccessToken(std::string connection_key) {
  auto executor = co_await boost::asio::this_coro::executor;
  Decision decision = Decide(connection_key, clock_.Now(), executor);
  if (decision.ready) co_return std::move(*decision.ready);

  if (decision.job) {
    boost::asio::co_spawn(executor, RunRefresh(connection_key, decision.job),
                          boost::asio::detached);
  }
  auto [ec] =
      co_await decision.channel->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));

  std::optional<TokenResult> outcome;
  {
    std::lock_guard lock(mutex_);
    outcome = decision.flight->outcome;
  }
  if (ec || !outcome) {
    co_return MakeError(ErrorCode::kUnavailable, "waiting for the token refresh of connection '" +
                                                     connection_key +
                                                     "' was cancelled; retry the request");
  }
  co_return std::move(*outcome);
}

boost::asio::awaitable<void> TokenManager::RunRefresh(std::string key,
                                                      std::shared_ptr<RefreshJob> job) {
  std::optional<TokenResult> outcome;
  try {
    if (job->unsaved) {
      outcome = co_await SaveRefreshed(key, *job, job->unsaved);
    } else if (job->provider->grant == GrantKind::kClientCredentials) {
      Result<TokenSet> requested = co_await client_.RequestClientCredentials(*job->provider);
      if (requested.ok()) {
        outcome = co_await SaveRefreshed(
            key, *job, std::make_shared<const TokenSet>(std::move(requested).value()));
      } else {
        outcome = co_await HandleFailure(key, *job, std::move(requested).take_error());
      }
    } else if (job->current->refresh_token.empty()) {
      outcome = co_await HandleFailure(
          key, *job,
          MakeError(ErrorCode::kFailedPrecondition,
                    "access token of connection '" + key + "' expired and provider '" +
                        job->provider->id +
                        "' issued no refresh token; the user must sign in again",
                    "invalid_grant"));
    } else {
      Result<TokenSet> refreshed =
          co_await client_.RefreshToken(*job->provider, job->current->refresh_token,
                                        job->current->scope, job->current->response);
      if (refreshed.ok()) {
        outcome = co_await SaveRefreshed(
            key, *job, std::make_shared<const TokenSet>(std::move(refreshed).value()));
      } else {
        outcome = co_await HandleFailure(key, *job, std::move(refreshed).take_error());
      }
    }
  } catch (const std::exception& e) {
    // Waiters must always be woken, so an unexpected exception becomes an error result.
    spdlog::error("token refresh of connection {} threw: {}", key, e.what());
    outcome = MakeError(ErrorCode::kInternal,
                        "token refresh of connection '" + key + "' failed unexpectedly");
  }
  Complete(key, *job, std::move(*outcome));
}

boost::asio::awaitable<TokenResult> TokenManager::SaveRefreshed(
    const std::string& key, const RefreshJob& job, std::shared_ptr<const TokenSet> tokens) {
  {
    // NOTE: a SetTokens that lands while SaveTokens runs is not ordered with this save, so the
    // store can keep the refreshed tokens while memory keeps the login's tokens.
    std::lock_guard lock(mutex_);
    if (FindCurrent(key, job.generation) == nullptr) co_return tokens;
  }
  Status saved = co_await persistence_.SaveTokens(key, *tokens);

  const TimePoint now = clock_.Now();
  std::lock_guard lock(mutex_);
  Entry* entry = FindCurrent(key, job.generation);
  if (!saved.ok()) {
    ++refresh_failures_;
    spdlog::error("saving refreshed tokens of connection {} failed: {}", key,
                  saved.error().message);
    Error error =
        MakeError(ErrorCode::kUnavailable, "saving the refreshed tokens of connection '" + key +
                                               "' failed: " + saved.error().message);
    if (entry != nullptr) {
      entry->unsaved = tokens;
      entry->next_attempt_at = now + options_.transient_retry_delay;
      entry->last_failure = error;
    }
    // The refreshed tokens are not saved yet, so requests keep the old access token while it lasts.
    if (IsUsable(*job.current, now)) co_return job.current;
    co_return error;
  }

  ++refreshes_;
  spdlog::info("refreshed tokens of connection {}", key);
  if (entry != nullptr) {
    entry->tokens = tokens;
    entry->unsaved = nullptr;
    entry->state = ConnectionState{};
    entry->next_attempt_at = TimePoint{};
    entry->last_failure.reset();
  }
  co_return tokens;
}

boost::asio::awaitable<TokenResult> TokenManager::HandleFailure(const std::string& key,
                                                                const RefreshJob& job,
                                                                Error error) {
  ++refresh_failures_;
  const TokenErrorKind kind = ClassifyTokenError(error);
  const TimePoint now = clock_.Now();
  std::optional<ConnectionError> connection_error;
  {
    std::lock_guard lock(mutex_);
    Entry* entry = FindCurrent(key, job.generation);
    if (kind == TokenErrorKind::kReloginRequired) {
      ++relogins_required_;
      spdlog::warn("connection {} needs a new login: {}", key, error.message);
      error.reason = std::string(kReloginRequired);
      connection_error = ConnectionError{error.reason, error.message};
      if (entry != nullptr) {
        entry->refresh_blocked = true;
        entry->state = ConnectionState{ConnectionStatus::kError, *connection_error};
      }
    } else if (kind == TokenErrorKind::kTransient) {
      spdlog::warn("token refresh of connection {} failed, retrying in {} s: {}", key,
                   options_.transient_retry_delay.count(), error.message);
      error.code = ErrorCode::kUnavailable;
      if (entry != nullptr) {
        entry->next_attempt_at = now + options_.transient_retry_delay;
        entry->last_failure = error;
      }
    } else {
      spdlog::error("token refresh of connection {} failed, retrying in {} s: {}", key,
                    options_.failure_retry_delay.count(), error.message);
      connection_error = ConnectionError{std::string(kRefreshFailed), error.message};
      if (entry != nullptr) {
        entry->next_attempt_at = now + options_.failure_retry_delay;
        entry->last_failure = error;
        entry->state = ConnectionState{ConnectionStatus::kError, *connection_error};
      }
    }
  }
  if (connection_error) co_await persistence_.MarkConnectionError(key, *connection_error);

  if (kind != TokenErrorKind::kReloginRequired && IsUsable(*job.current, now)) {
    co_return job.current;
  }
  co_return error;
}

void TokenManager::Complete(const std::string& key, const RefreshJob& job, TokenResult outcome) {
  std::vector<std::shared_ptr<WakeChannel>> waiters;
  {
    std::lock_guard lock(mutex_);
    job.flight->outcome = std::move(outcome);
    waiters.swap(job.flight->waiters);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second->flight == job.flight) it->second->flight = nullptr;
  }
  for (const auto& waiter : waiters) waiter->try_send(boost::system::error_code());
}

}  // namespace credgate::credentials
