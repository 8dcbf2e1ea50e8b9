// The refresh coroutine of TokenManager: the token request, saving its result, and the
// handling of each kind of failure.
#include <spdlog/spdlog.h>

#include <exception>

#include "credentials/token_errors.h"
#include "credentials/token_manager.h"
#include "credentials/token_manager_state.h"

namespace credgate::credentials {

namespace {

// The message a connection error shows to administrators: the error, then the provider's
// redacted response body.
std::string ConnectionMessage(const Error& error) {
  if (error.details.empty()) return error.message;
  return error.message + ". Provider response: " + error.details;
}

int64_t Milliseconds(TimePoint::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

}  // namespace

std::string_view TokenManager::CauseName(Cause cause) {
  switch (cause) {
    case Cause::kRequest:
      return "request";
    case Cause::kScheduled:
      return "scheduled";
    case Cause::kRejectedByBackend:
      return "backend_rejected_token";
  }
  return "request";
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
      Result<TokenSet> refreshed = co_await client_.RefreshToken(
          *job->provider, job->current->refresh_token, job->current->scope, job->current->response);
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
      entry->next_attempt_at = NextAttemptAt(*entry, now, options_.transient_retry_delay);
      entry->last_failure = error;
    }
    // The refreshed tokens are not saved yet, so callers keep the old access token while it
    // lasts.
    if (IsUsable(*job.current, now)) co_return job.current;
    co_return error;
  }

  ++refreshes_;
  spdlog::info("refreshed tokens connection={} trigger={}", key, CauseName(job.cause));
  if (entry != nullptr) {
    entry->tokens = tokens;
    entry->used = false;
    entry->unsaved = nullptr;
    entry->state = ConnectionState{};
    entry->next_attempt_at = TimePoint{};
    entry->failures = 0;
    entry->last_failure.reset();
    entry->from_rejection = job.cause == Cause::kRejectedByBackend;
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
    switch (kind) {
      case TokenErrorKind::kReloginRequired:
        ++relogins_required_;
        spdlog::warn("connection needs a new login connection={} trigger={}: {}", key,
                     CauseName(job.cause), ConnectionMessage(error));
        error.reason = std::string(kReloginRequired);
        connection_error = ConnectionError{error.reason, ConnectionMessage(error)};
        if (entry != nullptr) {
          entry->refresh_blocked = true;
          entry->state = ConnectionState{ConnectionStatus::kError, *connection_error};
        }
        break;

      case TokenErrorKind::kTransient: {
        error.code = ErrorCode::kUnavailable;
        // NOTE: the Retry-After header of a 429 or 503 is not read, so only the backoff spaces
        // the retries, and it may retry sooner than the provider asked.
        TimePoint retry_at = now;
        if (entry != nullptr) {
          retry_at = NextAttemptAt(*entry, now, options_.transient_retry_delay);
          entry->next_attempt_at = retry_at;
          entry->last_failure = error;
        }
        spdlog::warn("token refresh failed connection={} trigger={} retry_in_ms={}: {}", key,
                     CauseName(job.cause), Milliseconds(retry_at - now), error.message);
        break;
      }

      case TokenErrorKind::kProviderSettings:
      case TokenErrorKind::kOther: {
        const bool settings = kind == TokenErrorKind::kProviderSettings;
        if (settings) {
          ++provider_settings_invalid_;
          error.reason = std::string(kProviderSettingsInvalid);
        }
        connection_error =
            ConnectionError{std::string(settings ? kProviderSettingsInvalid : kRefreshFailed),
                            ConnectionMessage(error)};
        TimePoint retry_at = now;
        if (entry != nullptr) {
          retry_at = NextAttemptAt(*entry, now, options_.failure_retry_delay);
          entry->next_attempt_at = retry_at;
          entry->last_failure = error;
          entry->state = ConnectionState{ConnectionStatus::kError, *connection_error};
        }
        spdlog::error("token refresh failed connection={} code={} trigger={} retry_in_ms={}: {}",
                      key, connection_error->code, CauseName(job.cause),
                      Milliseconds(retry_at - now), connection_error->message);
        break;
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
