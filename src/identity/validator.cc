#include "identity/validator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <exception>
#include <mutex>
#include <optional>

#include "identity/async_event.h"
#include "identity/identity_errors.h"
#include "identity/jws_verifier.h"
#include "identity/jwt.h"
#include "identity/key_fetcher.h"
#include "identity/token_cache.h"

namespace credgate::identity {
namespace {

using IdentityResult = Result<std::shared_ptr<const CallerIdentity>>;

// One key fetch that concurrent callers wait for. `status` is written before `done` is set.
struct Fetch {
  AsyncEvent done;
  Status status;
};

// Mutable per-issuer state, kept across SetTrustedIssuers() while issuer and jwks_uri stay.
struct IssuerState {
  std::atomic<std::shared_ptr<const KeySet>> keys;
  // Unix seconds after which `keys` are due for a background refresh. Read without the mutex.
  std::atomic<int64_t> refresh_due{0};
  std::mutex mutex;  // Guards the fields below.
  std::shared_ptr<Fetch> in_flight;
  std::optional<TimePoint> last_fetch_started;
  std::optional<TimePoint> last_failure_at;
  Status last_failure;
};

struct IssuerEntry {
  TrustedIssuer config;
  std::shared_ptr<IssuerState> state;
};

struct Snapshot {
  explicit Snapshot(size_t cache_max_entries) : cache(cache_max_entries) {}
  std::vector<IssuerEntry> issuers;
  TokenCache cache;  // Dropped with the snapshot, so a new configuration starts empty.
};

// The outcome of one validation attempt. `pending` names the issuer whose keys must be fetched
// when the result is "KeysNotLoaded" or "UnknownKeyId".
struct Attempt {
  IdentityResult result;
  const IssuerEntry* pending = nullptr;
  const IssuerEntry* verified_with = nullptr;  // The issuer whose loaded keys were used.
};

bool Allowed(std::string_view issuer_id, std::span<const std::string> issuer_ids) {
  return issuer_ids.empty() ||
         std::find(issuer_ids.begin(), issuer_ids.end(), issuer_id) != issuer_ids.end();
}

}  // namespace

struct JwtValidator::Impl : std::enable_shared_from_this<JwtValidator::Impl> {
  Impl(std::shared_ptr<http::HttpClient> client_in, std::shared_ptr<const Clock> clock_in,
       JwtValidatorOptions options_in)
      : client(std::move(client_in)),
        clock(std::move(clock_in)),
        options(options_in),
        snapshot(std::make_shared<Snapshot>(options.cache_max_entries)) {}

  Attempt TryValidate(Snapshot& current, std::string_view token,
                      std::span<const std::string> issuer_ids);
  // Fetches keys for `entry` or joins the fetch in flight. Returns false without fetching when
  // an unknown-kid refetch is rate-limited.
  boost::asio::awaitable<Result<bool>> FetchKeys(const IssuerEntry& entry, bool unknown_kid);
  // Starts a background fetch for `entry` when its keys are due for a refresh and none runs.
  void RefreshIfDue(const IssuerEntry& entry, const boost::asio::any_io_executor& executor);
  static boost::asio::awaitable<void> RunFetch(std::shared_ptr<Impl> self,
                                               std::shared_ptr<IssuerState> state,
                                               TrustedIssuer config, std::shared_ptr<Fetch> fetch);
  IdentityResult Count(IdentityResult result);

  std::shared_ptr<http::HttpClient> client;
  std::shared_ptr<const Clock> clock;
  JwtValidatorOptions options;
  std::atomic<std::shared_ptr<Snapshot>> snapshot;
  std::mutex config_mutex;  // Serialises SetTrustedIssuers().

  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> key_fetches{0};
  std::atomic<uint64_t> key_fetch_failures{0};
};

Attempt JwtValidator::Impl::TryValidate(Snapshot& current, std::string_view token,
                                        std::span<const std::string> issuer_ids) {
  const TimePoint now = clock->Now();
  if (std::shared_ptr<const CallerIdentity> cached = current.cache.Find(token, now)) {
    if (!Allowed(cached->issuer_id, issuer_ids)) {
      return {JwtError(fmt::format("issuer '{}' is not allowed for this API", cached->issuer_id),
                       kReasonUntrustedIssuer)};
    }
    cache_hits.fetch_add(1, std::memory_order_relaxed);
    return {std::move(cached)};
  }

  Result<DecodedJwt> jwt = DecodeJwt(token);
  if (!jwt.ok()) return {jwt.error()};

  // The payload is read before the signature is verified only to choose the issuer, whose
  // keys then verify it.
  const boost::json::value* iss = jwt->payload.if_contains("iss");
  if (iss == nullptr || !iss->is_string()) return {JwtError("JWT has no string 'iss' claim")};
  const IssuerEntry* entry = nullptr;
  for (const IssuerEntry& candidate : current.issuers) {
    if (candidate.config.issuer == iss->as_string()) entry = &candidate;
  }
  if (entry == nullptr) {
    return {JwtError(fmt::format("issuer '{}' is not trusted", std::string_view(iss->as_string())),
                     kReasonUntrustedIssuer)};
  }
  if (!Allowed(entry->config.id, issuer_ids)) {
    return {JwtError(fmt::format("issuer '{}' is not allowed for this API", entry->config.id),
                     kReasonUntrustedIssuer)};
  }

  // Claims go first because they are cheap, so an expired or misdirected token never costs a
  // signature check or a key fetch.
  Result<CallerIdentity> identity = CheckClaims(jwt->payload, entry->config, now);
  if (!identity.ok()) return {identity.error()};

  std::shared_ptr<const KeySet> keys = entry->state->keys.load();
  if (!keys) {
    return {MakeError(ErrorCode::kUnavailable,
                      fmt::format("keys of issuer '{}' are not loaded yet", entry->config.id),
                      std::string(kReasonKeysNotLoaded)),
            entry};
  }
  if (Status verified = VerifyJws(*jwt, *keys, entry->config.id); !verified.ok()) {
    const bool unknown_kid = verified.error().reason == kReasonUnknownKeyId;
    return {std::move(verified).take_error(), unknown_kid ? entry : nullptr, entry};
  }

  auto shared = std::make_shared<const CallerIdentity>(std::move(identity).value());
  current.cache.Insert(token, shared, now);
  return {std::move(shared), nullptr, entry};
}

boost::asio::awaitable<Result<bool>> JwtValidator::Impl::FetchKeys(const IssuerEntry& entry,
                                                                   bool unknown_kid) {
  IssuerState& state = *entry.state;
  std::shared_ptr<Fetch> fetch;
  bool start = false;
  {
    std::lock_guard lock(state.mutex);
    const TimePoint now = clock->Now();
    if (state.in_flight) {
      fetch = state.in_flight;
    } else if (unknown_kid && state.last_fetch_started &&
               now - *state.last_fetch_started < options.unknown_kid_refetch_interval) {
      co_return false;
    } else if (!unknown_kid && state.keys.load()) {
      co_return true;  // A fetch finished between the attempt and this call.
    } else if (!unknown_kid && state.last_failure_at &&
               now - *state.last_failure_at < options.failed_fetch_retry_interval) {
      co_return state.last_failure.error();
    } else {
      fetch = std::make_shared<Fetch>();
      state.in_flight = fetch;
      state.last_fetch_started = now;
      start = true;
    }
  }

  if (start) {
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor,
                          RunFetch(shared_from_this(), entry.state, entry.config, fetch),
                          boost::asio::detached);
  }
  co_await fetch->done.Wait();
  if (!fetch->status.ok()) co_return fetch->status.error();
  co_return true;
}

void JwtValidator::Impl::RefreshIfDue(const IssuerEntry& entry,
                                      const boost::asio::any_io_executor& executor) {
  IssuerState& state = *entry.state;
  const TimePoint now = clock->Now();
  if (ToUnixSeconds(now) < state.refresh_due.load(std::memory_order_relaxed)) return;

  auto fetch = std::make_shared<Fetch>();
  {
    std::lock_guard lock(state.mutex);
    if (state.in_flight || !state.last_fetch_started ||
        now - *state.last_fetch_started < options.key_refresh_interval) {
      return;
    }
    state.in_flight = fetch;
    state.last_fetch_started = now;
  }
  spdlog::info("identity: refreshing keys of issuer '{}'", entry.config.id);
  boost::asio::co_spawn(executor, RunFetch(shared_from_this(), entry.state, entry.config, fetch),
                        boost::asio::detached);
}

boost::asio::awaitable<void> JwtValidator::Impl::RunFetch(std::shared_ptr<Impl> self,
                                                          std::shared_ptr<IssuerState> state,
                                                          TrustedIssuer config,
                                                          std::shared_ptr<Fetch> fetch) {
  Result<std::shared_ptr<const KeySet>> keys =
      MakeError(ErrorCode::kInternal, "key fetch did not run");
  try {
    keys = co_await FetchKeySet(*self->client, config);
  } catch (const std::exception& e) {
    // HttpClient reports failures as Results. This catch keeps the waiters from hanging if one
    // throws anyway.
    keys = MakeError(ErrorCode::kUnavailable,
                     fmt::format("fetching keys of issuer '{}' threw: {}", config.id, e.what()),
                     std::string(kReasonKeyFetchFailed));
  }

  Status status;
  if (keys.ok()) {
    self->key_fetches.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("identity: loaded {} keys of issuer '{}' ({} skipped{}{})", (*keys)->keys().size(),
                 config.id, (*keys)->skipped().size(), (*keys)->skipped().empty() ? "" : ": ",
                 fmt::join((*keys)->skipped(), "; "));
    state->keys.store(*keys);
    const auto due = self->clock->Now() + self->options.key_refresh_interval;
    state->refresh_due.store(ToUnixSeconds(due), std::memory_order_relaxed);
  } else {
    self->key_fetch_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("identity: {}", keys.error().message);
    status = keys.error();
  }

  {
    std::lock_guard lock(state->mutex);
    state->in_flight.reset();
    if (!status.ok()) {
      state->last_failure_at = self->clock->Now();
      state->last_failure = status;
    }
  }
  fetch->status = std::move(status);
  fetch->done.Set();
}

IdentityResult JwtValidator::Impl::Count(IdentityResult result) {
  (result.ok() ? accepted : rejected).fetch_add(1, std::memory_order_relaxed);
  return result;
}

JwtValidator::JwtValidator(std::shared_ptr<http::HttpClient> client,
                           std::shared_ptr<const Clock> clock, JwtValidatorOptions options)
    : impl_(std::make_shared<Impl>(std::move(client), std::move(clock), options)) {}

JwtValidator::~JwtValidator() = default;

Status JwtValidator::SetTrustedIssuers(std::vector<TrustedIssuer> issuers) {
  for (size_t i = 0; i < issuers.size(); ++i) {
    CREDGATE_RETURN_IF_ERROR(ValidateTrustedIssuer(issuers[i]));
    for (size_t j = 0; j < i; ++j) {
      if (issuers[j].id == issuers[i].id) {
        return MakeError(
            ErrorCode::kInvalidArgument,
            fmt::format("trusted issuer id '{}' is used twice; rename one", issuers[i].id));
      }
      if (issuers[j].issuer == issuers[i].issuer) {
        return MakeError(ErrorCode::kInvalidArgument,
                         fmt::format("trusted issuers '{}' and '{}' have the same issuer {}; "
                                     "merge their audiences into one entry",
                                     issuers[j].id, issuers[i].id, issuers[i].issuer));
      }
    }
  }

  std::lock_guard lock(impl_->config_mutex);
  std::shared_ptr<Snapshot> previous = impl_->snapshot.load();
  auto next = std::make_shared<Snapshot>(impl_->options.cache_max_entries);
  for (TrustedIssuer& issuer : issuers) {
    std::shared_ptr<IssuerState> state;
    for (const IssuerEntry& old : previous->issuers) {
      if (old.config.issuer == issuer.issuer && old.config.jwks_uri == issuer.jwks_uri) {
        state = old.state;
      }
    }
    if (!state) state = std::make_shared<IssuerState>();
    next->issuers.push_back(IssuerEntry{std::move(issuer), std::move(state)});
  }
  const size_t count = next->issuers.size();
  impl_->snapshot.store(std::move(next));
  spdlog::info("identity: {} trusted issuers configured", count);
  return OkStatus();
}

Result<std::shared_ptr<const CallerIdentity>> JwtValidator::ValidateCached(
    std::string_view token, std::span<const std::string> issuer_ids) {
  std::shared_ptr<Snapshot> current = impl_->snapshot.load();
  return impl_->Count(impl_->TryValidate(*current, token, issuer_ids).result);
}

boost::asio::awaitable<Result<std::shared_ptr<const CallerIdentity>>> JwtValidator::Validate(
    std::string_view token, std::span<const std::string> issuer_ids) {
  // Holding `impl` and `current` keeps the state and the entry alive across suspensions.
  std::shared_ptr<Impl> impl = impl_;
  std::shared_ptr<Snapshot> current = impl->snapshot.load();
  Attempt attempt = impl->TryValidate(*current, token, issuer_ids);
  if (attempt.verified_with != nullptr) {
    impl->RefreshIfDue(*attempt.verified_with, co_await boost::asio::this_coro::executor);
  }
  if (attempt.pending == nullptr) co_return impl->Count(std::move(attempt.result));

  const bool unknown_kid = attempt.result.error().reason == kReasonUnknownKeyId;
  Result<bool> fetched = co_await impl->FetchKeys(*attempt.pending, unknown_kid);
  if (!fetched.ok()) co_return impl->Count(std::move(fetched).take_error());
  if (!*fetched) co_return impl->Count(std::move(attempt.result));

  co_return impl->Count(impl->TryValidate(*current, token, issuer_ids).result);
}

JwtValidatorCounters JwtValidator::counters() const {
  JwtValidatorCounters result;
  result.accepted = impl_->accepted.load(std::memory_order_relaxed);
  result.cache_hits = impl_->cache_hits.load(std::memory_order_relaxed);
  result.rejected = impl_->rejected.load(std::memory_order_relaxed);
  result.key_fetches = impl_->key_fetches.load(std::memory_order_relaxed);
  result.key_fetch_failures = impl_->key_fetch_failures.load(std::memory_order_relaxed);
  return result;
}

}  // namespace credgate::identity
