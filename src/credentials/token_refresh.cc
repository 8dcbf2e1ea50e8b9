// The refresh coroutine of TokenManager: the token request, saving its result, and the
// handling of each kind of failure.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
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
    } else {
      RefreshClaim claim;
      outcome = co_await ClaimOrWait(key, *job, claim);
      if (!outcome) outcome = co_await RequestAndSave(key, *job, claim);
    }
  } catch (const std::exception& e) {
    // Waiters must always be woken, so an unexpected exception becomes an error result.
    spdlog::error("token refresh of connection {} threw: {}", key, e.what());
    outcome = MakeError(ErrorCode::kInternal,
                        "token refresh of connection '" + key + "' failed unexpectedly");
  }
  Complete(key, *job, std::move(*outcome));
}

boost::asio::awaitable<std::optional<TokenResult>> TokenManager::ClaimOrWait(
    const std::string& key, const RefreshJob& job, RefreshClaim& claim) {
  const int64_t polls = std::max<int64_t>(
      1, options_.busy_wait_limit.count() / std::max<int64_t>(1, options_.busy_poll_interval.count()));
  for (int64_t poll = 0; poll <= polls; ++poll) {
    Result<RefreshClaim> claimed = co_await persistence_.ClaimRefresh(key, job.current->version);
    if (!claimed.ok()) {
      Error error = std::move(claimed).take_error();
      error.message = "claiming the token refresh of connection '" + key +
                      "' in the store failed: " + error.message;
      co_return co_await HandleFailure(key, job, std::move(error), nullptr);
    }
    switch (claimed->outcome) {
      case RefreshClaim::Outcome::kClaimed:
        claim = std::move(*claimed);
        co_return std::nullopt;
      case RefreshClaim::Outcome::kSuperseded:
        co_return Adopt(key, job, std::move(claimed->stored));
      case RefreshClaim::Outcome::kBusy:
        break;
    }

    // Another process is refreshing. A valid token is served meanwhile, and the store is asked
    // again once the other claim ends or the recheck interval passes.
    {
      std::lock_guard lock(mutex_);
      Entry* entry = FindCurrent(key, job.generation);
      if (entry != nullptr && entry->refresh_blocked) {
        // The other process's refresh found the grant dead (MarkReloginRequired).
        co_return MakeError(ErrorCode::kFailedPrecondition, entry->state().error.message,
                            entry->state().error.code);
      }
    }
    const TimePoint now = clock_.Now();
    if (IsUsable(*job.current, now)) {
      std::lock_guard lock(mutex_);
      if (Entry* entry = FindCurrent(key, job.generation)) {
        entry->MutableRefresh().next_attempt_at =
            std::min(claimed->busy_until, now + options_.busy_recheck_interval);
      }
      co_return TokenResult(job.current);
    }
    if (poll == 0) {
      spdlog::info("waiting for another gateway's token refresh connection={}", key);
    }
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    options_.busy_poll_interval);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  ++refresh_failures_;
  CountOutcome(key, RefreshOutcome::kTransientFailure);
  co_return MakeError(ErrorCode::kUnavailable,
                      "another gateway has been refreshing the expired token of connection '" +
                          key + "' for too long; retry the request");
}

boost::asio::awaitable<TokenResult> TokenManager::RequestAndSave(const std::string& key,
                                                                 const RefreshJob& job,
                                                                 const RefreshClaim& claim) {
  if (claim.unfinished_attempt) {
    spdlog::warn(
        "an earlier token refresh did not finish connection={} holder={}; retrying with the "
        "stored refresh token",
        key, claim.unfinished_holder);
  }
  co_await PauseForFaultInjection(key, "before_token_request");

  Result<TokenSet> requested = MakeError(ErrorCode::kInternal, "no token request was made");
  const bool client_credentials = job.provider->grant == GrantKind::kClientCredentials;
  if (client_credentials) {
    requested = co_await client_.RequestClientCredentials(*job.provider);
  } else if (job.current->refresh_token.empty()) {
    co_await persistence_.ReleaseRefresh(key, true);
    co_return co_await HandleFailure(
        key, job,
        MakeError(ErrorCode::kFailedPrecondition,
                  "access token of connection '" + key + "' expired and provider '" +
                      job.provider->id + "' issued no refresh token; the user must sign in again",
                  "invalid_grant"),
        nullptr);
  } else {
    requested = co_await client_.RefreshToken(*job.provider, job.current->refresh_token,
                                              job.current->scope, job.current->response);
  }

  if (requested.ok()) {
    co_await PauseForFaultInjection(key, "after_token_response");
    co_return co_await SaveRefreshed(
        key, job, std::make_shared<const TokenSet>(std::move(requested).value()));
  }

  Error error = std::move(requested).take_error();
  const TokenErrorKind kind = ClassifyTokenError(error);
  if (kind == TokenErrorKind::kReloginRequired && !client_credentials) {
    // Another gateway may have rotated the refresh token since this one read it.
    Result<std::shared_ptr<const TokenSet>> stored = co_await persistence_.LoadTokens(key);
    if (stored.ok() && (*stored)->version > job.current->version) {
      co_await persistence_.ReleaseRefresh(key, true);
      co_return Adopt(key, job, std::move(*stored));
    }
  }
  // A rejected grant keeps the claim until it expires, so that the other gateways learn of the
  // Error status through the store instead of trying the dead refresh token again. A transient
  // failure may be a timeout after the provider rotated the refresh token, so its attempt stays
  // recorded.
  if (kind != TokenErrorKind::kReloginRequired) {
    co_await persistence_.ReleaseRefresh(key, kind != TokenErrorKind::kTransient);
  }
  co_return co_await HandleFailure(key, job, std::move(error), &claim);
}

TokenResult TokenManager::Adopt(const std::string& key, const RefreshJob& job,
                                std::shared_ptr<const TokenSet> stored) {
  ++refreshes_adopted_;
  CountOutcome(key, RefreshOutcome::kAdopted);
  spdlog::info("took the tokens another gateway refreshed connection={} version={}", key,
               stored->version);
  std::lock_guard lock(mutex_);
  if (Entry* entry = FindCurrent(key, job.generation)) {
    entry->tokens = stored;
    entry->used = false;
    entry->ClearFailure();
    entry->refresh_blocked = false;
    entry->from_rejection = false;
  }
  return TokenResult(std::move(stored));
}

boost::asio::awaitable<void> TokenManager::PauseForFaultInjection(const std::string& key,
                                                                  std::string_view point) {
  if (options_.fault_pause_point.empty() || options_.fault_pause_point != point) co_return;
  spdlog::warn("fault injection: paused at {} connection={}", point, key);
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                  std::chrono::hours(24));
  co_await timer.async_wait(boost::asio::use_awaitable);
}

boost::asio::awaitable<TokenResult> TokenManager::SaveRefreshed(
    const std::string& key, const RefreshJob& job, std::shared_ptr<const TokenSet> tokens) {
  {
    // NOTE: a SetTokens that lands while CommitRefresh runs is not ordered with this save, so
    // the store can keep the refreshed tokens while memory keeps the login's tokens.
    std::lock_guard lock(mutex_);
    if (FindCurrent(key, job.generation) == nullptr) co_return tokens;
  }
  Result<int64_t> saved = co_await persistence_.CommitRefresh(key, *tokens, job.current->version);
  if (!saved.ok() && saved.error().code == ErrorCode::kConflict) {
    // Another gateway stored newer tokens first; they win, because the version only grows.
    Result<std::shared_ptr<const TokenSet>> stored = co_await persistence_.LoadTokens(key);
    if (stored.ok()) {
      spdlog::warn("another gateway stored newer tokens during this refresh connection={}", key);
      co_return Adopt(key, job, std::move(*stored));
    }
  }

  const TimePoint now = clock_.Now();
  std::lock_guard lock(mutex_);
  Entry* entry = FindCurrent(key, job.generation);
  if (!saved.ok()) {
    ++refresh_failures_;
    CountOutcome(key, RefreshOutcome::kFailed);
    spdlog::error("saving refreshed tokens of connection {} failed: {}", key,
                  saved.error().message);
    Error error =
        MakeError(ErrorCode::kUnavailable, "saving the refreshed tokens of connection '" + key +
                                               "' failed: " + saved.error().message);
    if (entry != nullptr) {
      const TimePoint retry_at = NextAttemptAt(*entry, now, options_.transient_retry_delay);
      Entry::RefreshState& refresh = entry->MutableRefresh();
      refresh.unsaved = tokens;
      refresh.next_attempt_at = retry_at;
      refresh.last_failure = error;
    }
    // The refreshed tokens are not saved yet, so callers keep the old access token while it
    // lasts.
    if (IsUsable(*job.current, now)) co_return job.current;
    co_return error;
  }

  auto versioned = std::make_shared<TokenSet>(*tokens);
  versioned->version = *saved;
  tokens = std::move(versioned);
  ++refreshes_;
  CountOutcome(key, RefreshOutcome::kRefreshed);
  spdlog::info("refreshed tokens connection={} trigger={} version={}", key, CauseName(job.cause),
               *saved);
  if (entry != nullptr) {
    entry->tokens = tokens;
    entry->used = false;
    entry->ClearFailure();
    entry->from_rejection = job.cause == Cause::kRejectedByBackend;
  }
  co_return tokens;
}

boost::asio::awaitable<TokenResult> TokenManager::HandleFailure(const std::string& key,
                                                                const RefreshJob& job, Error error,
                                                                const RefreshClaim* claim) {
  ++refresh_failures_;
  const TokenErrorKind kind = ClassifyTokenError(error);
  switch (kind) {
    case TokenErrorKind::kReloginRequired:
      CountOutcome(key, RefreshOutcome::kReloginRequired);
      break;
    case TokenErrorKind::kTransient:
      CountOutcome(key, RefreshOutcome::kTransientFailure);
      break;
    case TokenErrorKind::kProviderSettings:
      CountOutcome(key, RefreshOutcome::kProviderSettingsInvalid);
      break;
    case TokenErrorKind::kOther:
      CountOutcome(key, RefreshOutcome::kFailed);
      break;
  }
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
        if (claim != nullptr && claim->unfinished_attempt) {
          ++rotations_lost_;
          error.reason = std::string(kRefreshTokenRotationLost);
          error.message = "the provider rejected the stored refresh token after a refresh by '" +
                          claim->unfinished_holder +
                          "' stopped before storing its result, so the rotated refresh token is "
                          "lost; sign in again through a login link. " +
                          error.message;
          spdlog::error("rotated refresh token lost connection={} holder={}", key,
                        claim->unfinished_holder);
        }
        connection_error = ConnectionError{error.reason, ConnectionMessage(error)};
        if (entry != nullptr) {
          entry->refresh_blocked = true;
          entry->MutableRefresh().state =
              ConnectionState{ConnectionStatus::kError, *connection_error};
        }
        break;

      case TokenErrorKind::kTransient: {
        error.code = ErrorCode::kUnavailable;
        // NOTE: the Retry-After header of a 429 or 503 is not read, so only the backoff spaces
        // the retries, and it may retry sooner than the provider asked.
        TimePoint retry_at = now;
        if (entry != nullptr) {
          retry_at = NextAttemptAt(*entry, now, options_.transient_retry_delay);
          entry->MutableRefresh().next_attempt_at = retry_at;
          entry->MutableRefresh().last_failure = error;
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
          Entry::RefreshState& refresh = entry->MutableRefresh();
          refresh.next_attempt_at = retry_at;
          refresh.last_failure = error;
          refresh.state = ConnectionState{ConnectionStatus::kError, *connection_error};
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
    Entry* entry = entries_.Find(key);
    if (entry != nullptr && entry->flight() == job.flight) {
      entry->refresh->flight = nullptr;
      entry->Compact();
    }
    // The refresh ended, and may have replaced the tokens or set a backoff.
    NoteChanged(key);
  }
  for (const auto& waiter : waiters) waiter->try_send(boost::system::error_code());
}

}  // namespace credgate::credentials
