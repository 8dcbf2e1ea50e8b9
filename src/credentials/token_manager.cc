#include "credentials/token_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "credentials/token_manager_state.h"

namespace credgate::credentials {

namespace {

RandomSource& DefaultRandom() {
  static OpenSslRandom random;
  return random;
}

}  // namespace

TokenManager::TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock)
    : TokenManager(client, persistence, clock, DefaultRandom(), Options()) {}

TokenManager::TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock,
                           Options options)
    : TokenManager(client, persistence, clock, DefaultRandom(), options) {}

TokenManager::TokenManager(TokenClient& client, TokenPersistence& persistence, const Clock& clock,
                           RandomSource& random, Options options)
    : client_(client),
      persistence_(persistence),
      clock_(clock),
      random_(random),
      options_(options) {}

TokenManager::~TokenManager() = default;

void TokenManager::SetProvider(std::shared_ptr<const ProviderConfig> provider) {
  std::lock_guard lock(mutex_);
  const std::string id = provider->id;
  providers_[id] = std::move(provider);

  // New settings may fix what failed, so connections that wait out a backoff try again.
  // The provider's settings are part of every refresh candidate of its connections.
  const std::string prefix = id + "/";
  for (Entry* entry : entries_) {
    if (!entry->key().starts_with(prefix)) continue;
    NoteChanged(entry->key());
    if (entry->refresh_blocked || entry->refresh == nullptr) continue;
    if (entry->refresh->state.status != ConnectionStatus::kError) continue;
    entry->refresh->next_attempt_at = TimePoint{};
    entry->refresh->failures = 0;
  }
}

void TokenManager::RemoveProvider(const std::string& provider_id) {
  std::lock_guard lock(mutex_);
  providers_.erase(provider_id);
  const std::string prefix = provider_id + "/";
  for (const Entry* entry : entries_) {
    if (entry->key().starts_with(prefix)) NoteChanged(entry->key());
  }
}

void TokenManager::SetClientCredentials(const std::string& connection_key,
                                        std::shared_ptr<const ProviderConfig> provider) {
  std::lock_guard lock(mutex_);
  client_credentials_[connection_key] = std::move(provider);
  NoteChanged(connection_key);
}

std::shared_ptr<const ProviderConfig> TokenManager::FindProvider(const std::string& key) const {
  if (auto it = client_credentials_.find(key); it != client_credentials_.end()) return it->second;
  auto it = providers_.find(key.substr(0, key.find('/')));
  return it == providers_.end() ? nullptr : it->second;
}

void TokenManager::SetTokens(const std::string& connection_key, TokenSet tokens) {
  auto shared = std::make_shared<const TokenSet>(std::move(tokens));
  std::lock_guard lock(mutex_);
  entries_.TryEmplace(connection_key).first->Replace(std::move(shared), next_generation_++);
  NoteChanged(connection_key);
}

bool TokenManager::AdoptStoredTokens(const std::string& connection_key, TokenSet tokens) {
  auto shared = std::make_shared<const TokenSet>(std::move(tokens));
  std::lock_guard lock(mutex_);
  auto [entry, added] = entries_.TryEmplace(connection_key);
  if (!added && entry->tokens->version >= shared->version) return false;
  entry->Replace(std::move(shared), next_generation_++);
  NoteChanged(connection_key);
  return true;
}

void TokenManager::MarkReloginRequired(const std::string& connection_key, ConnectionError error) {
  std::lock_guard lock(mutex_);
  Entry* entry = entries_.Find(connection_key);
  if (entry == nullptr) return;
  entry->refresh_blocked = true;
  entry->MutableRefresh().state = ConnectionState{ConnectionStatus::kError, std::move(error)};
  NoteChanged(connection_key);
}

void TokenManager::Remove(const std::string& connection_key) {
  std::lock_guard lock(mutex_);
  if (const Entry* entry = entries_.Find(connection_key)) {
    StepPassesOff(entry);
    entries_.Erase(entry);
  }
  client_credentials_.erase(connection_key);
  NoteChanged(connection_key);
}

std::optional<TokenManager::ConnectionState> TokenManager::GetState(
    const std::string& connection_key) const {
  std::lock_guard lock(mutex_);
  const Entry* entry = entries_.Find(connection_key);
  if (entry == nullptr) return std::nullopt;
  return entry->state();
}

std::optional<int64_t> TokenManager::TokenVersion(const std::string& connection_key) const {
  std::lock_guard lock(mutex_);
  const Entry* entry = entries_.Find(connection_key);
  if (entry == nullptr) return std::nullopt;
  return entry->tokens->version;
}

size_t TokenManager::ConnectionsWithTokens() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::string_view TokenManager::RefreshOutcomeName(RefreshOutcome outcome) {
  switch (outcome) {
    case RefreshOutcome::kRefreshed:
      return "refreshed";
    case RefreshOutcome::kAdopted:
      return "adopted_from_store";
    case RefreshOutcome::kTransientFailure:
      return "transient_failure";
    case RefreshOutcome::kReloginRequired:
      return "relogin_required";
    case RefreshOutcome::kProviderSettingsInvalid:
      return "provider_settings_invalid";
    case RefreshOutcome::kFailed:
      return "failed";
  }
  return "unknown";
}

void TokenManager::CountOutcome(const std::string& key, RefreshOutcome outcome) {
  const std::string provider = key.substr(0, key.find('/'));
  std::lock_guard lock(outcomes_mutex_);
  ++outcomes_[provider][static_cast<size_t>(outcome)];
}

std::map<std::string, TokenManager::RefreshOutcomeCounts> TokenManager::RefreshOutcomesByProvider()
    const {
  std::lock_guard lock(outcomes_mutex_);
  return outcomes_;
}

TokenManager::Counters TokenManager::GetCounters() const {
  Counters counters;
  counters.refreshes = refreshes_.load();
  counters.refresh_failures = refresh_failures_.load();
  counters.relogins_required = relogins_required_.load();
  counters.provider_settings_invalid = provider_settings_invalid_.load();
  counters.rejected_token_refreshes = rejected_token_refreshes_.load();
  counters.rejected_token_refreshes_skipped = rejected_token_refreshes_skipped_.load();
  counters.refreshes_adopted = refreshes_adopted_.load();
  counters.rotations_lost = rotations_lost_.load();
  return counters;
}

std::vector<TokenManager::RefreshCandidate> TokenManager::ListRefreshCandidates() const {
  std::vector<RefreshCandidate> candidates;
  std::lock_guard lock(mutex_);
  candidates.reserve(entries_.size());
  for (const Entry* entry : entries_) {
    RefreshCandidate candidate;
    candidate.connection_key = entry->key();
    FillCandidate(candidate.connection_key, entry, candidate);
    if (candidate.tokens == nullptr) continue;
    candidates.push_back(std::move(candidate));
  }
  return candidates;
}

void TokenManager::FillCandidate(const std::string& key, const Entry* entry,
                                 RefreshCandidate& candidate) const {
  if (entry == nullptr || entry->refresh_blocked) return;
  std::shared_ptr<const ProviderConfig> provider = FindProvider(key);
  if (provider == nullptr) return;
  candidate.tokens = entry->tokens;
  candidate.provider = std::move(provider);
  candidate.retry_not_before = entry->next_attempt_at();
  candidate.refreshing = entry->flight() != nullptr;
  candidate.unsaved = entry->unsaved() != nullptr;
  candidate.used = entry->used;
}

void TokenManager::NoteChanged(std::string_view key) {
  for (auto& [subscription, queue] : change_queues_) {
    if (queue.full_pass && !queue.pass_started) continue;  // The pass will read the entry.
    queue.keys.emplace_back(key);
  }
}

void TokenManager::StepPassesOff(const Entry* entry) {
  for (auto& [subscription, queue] : change_queues_) {
    if (!queue.full_pass || !queue.pass_started || queue.rehashes != entries_.rehashes()) continue;
    if (queue.next != entries_.end() && *queue.next == entry) ++queue.next;
  }
}

TokenManager::ChangeSubscription TokenManager::SubscribeChanges() {
  std::lock_guard lock(mutex_);
  const ChangeSubscription subscription = next_subscription_++;
  change_queues_[subscription] = ChangeQueue{};
  return subscription;
}

void TokenManager::UnsubscribeChanges(ChangeSubscription subscription) {
  std::lock_guard lock(mutex_);
  change_queues_.erase(subscription);
}

void TokenManager::TakeFullPass(ChangeQueue& queue, size_t max,
                                std::vector<RefreshCandidate>& changes) {
  if (!queue.pass_started || queue.rehashes != entries_.rehashes()) {
    // A rehash moved the entries, so the pass starts again. Changes since the first start are
    // queued, so an entry that left is still reported. An entry added without a rehash may
    // land before or after the pass's place, and is reported by the queue either way.
    queue.pass_started = true;
    queue.rehashes = entries_.rehashes();
    queue.next = entries_.begin();
  }
  for (; queue.next != entries_.end() && changes.size() < max; ++queue.next) {
    const Entry* entry = *queue.next;
    RefreshCandidate& candidate = changes.emplace_back();
    candidate.connection_key = entry->key();
    FillCandidate(candidate.connection_key, entry, candidate);
  }
  if (queue.next == entries_.end()) queue.full_pass = false;
}

std::vector<TokenManager::RefreshCandidate> TokenManager::TakeChanges(
    ChangeSubscription subscription, size_t max) {
  std::vector<RefreshCandidate> changes;
  std::lock_guard lock(mutex_);
  auto found = change_queues_.find(subscription);
  if (found == change_queues_.end()) return changes;
  ChangeQueue& queue = found->second;
  if (queue.full_pass) TakeFullPass(queue, max, changes);
  while (changes.size() < max && !queue.keys.empty()) {
    RefreshCandidate& candidate = changes.emplace_back();
    candidate.connection_key = std::move(queue.keys.front());
    queue.keys.pop_front();
    FillCandidate(candidate.connection_key, entries_.Find(candidate.connection_key), candidate);
  }
  return changes;
}

boost::asio::awaitable<TokenResult> TokenManager::GetAccessToken(std::string connection_key) {
  co_return co_await Run(std::move(connection_key), Cause::kRequest, nullptr);
}

boost::asio::awaitable<TokenResult> TokenManager::Refresh(std::string connection_key,
                                                          std::shared_ptr<const TokenSet> seen,
                                                          RefreshTrigger trigger) {
  const Cause cause =
      trigger == RefreshTrigger::kScheduled ? Cause::kScheduled : Cause::kRejectedByBackend;
  co_return co_await Run(std::move(connection_key), cause, seen.get());
}

boost::asio::awaitable<TokenResult> TokenManager::Run(std::string key, Cause cause,
                                                      const TokenSet* seen) {
  auto executor = co_await boost::asio::this_coro::executor;
  Decision decision = Decide(key, clock_.Now(), executor, cause, seen);
  if (decision.ready) co_return std::move(*decision.ready);

  if (decision.job) {
    boost::asio::co_spawn(executor, RunRefresh(key, decision.job), boost::asio::detached);
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
                                                     key + "' was cancelled; retry the request");
  }
  // A request that waited for the refresh receives the new tokens, so they count as used.
  if (cause != Cause::kScheduled && outcome->ok()) MarkUsed(key, outcome->value());
  co_return std::move(*outcome);
}

void TokenManager::MarkUsed(const std::string& key, const std::shared_ptr<const TokenSet>& tokens) {
  std::lock_guard lock(mutex_);
  Entry* entry = entries_.Find(key);
  if (entry != nullptr && entry->tokens == tokens && !entry->used) {
    entry->used = true;
    NoteChanged(key);
  }
}

bool TokenManager::NeedsRefresh(const std::string& key, Entry& entry, TimePoint now, Cause cause,
                                const TokenSet* seen) {
  if (entry.unsaved() != nullptr) return true;
  // The first use of a token set changes its refresh due time.
  auto mark_used = [&] {
    if (entry.used) return;
    entry.used = true;
    NoteChanged(key);
  };
  switch (cause) {
    case Cause::kRequest: {
      mark_used();
      const std::optional<TimePoint> due = RefreshDueAt(*entry.tokens, options_.timing);
      return due && now >= *due;
    }
    case Cause::kScheduled:
      return entry.tokens.get() == seen;
    case Cause::kRejectedByBackend:
      mark_used();
      if (entry.tokens.get() != seen) return false;
      if (entry.from_rejection &&
          now < entry.tokens->obtained_at + options_.rejected_token_refresh_interval) {
        ++rejected_token_refreshes_skipped_;
        return false;
      }
      return true;
  }
  return false;
}

TokenManager::Decision TokenManager::Decide(const std::string& key, TimePoint now,
                                            const boost::asio::any_io_executor& executor,
                                            Cause cause, const TokenSet* seen) {
  Decision decision;
  std::lock_guard lock(mutex_);
  Entry* found = entries_.Find(key);
  if (found == nullptr) {
    decision.ready = MakeError(ErrorCode::kNotFound, "connection '" + key +
                                                         "' has no tokens; sign in through a "
                                                         "login link for it");
    return decision;
  }
  Entry& entry = *found;
  if (entry.refresh_blocked) {
    decision.ready = MakeError(ErrorCode::kFailedPrecondition, entry.state().error.message,
                               entry.state().error.code);
    return decision;
  }

  const TokenSet& tokens = *entry.tokens;
  if (!NeedsRefresh(key, entry, now, cause, seen)) {
    decision.ready = TokenResult(entry.tokens);
    return decision;
  }

  if (entry.flight() == nullptr) {
    // Without a refresh token there is nothing to try until the token expires, except for a
    // client credentials connection, which requests a new token.
    if (entry.unsaved() == nullptr && tokens.refresh_token.empty() &&
        !client_credentials_.contains(key) && IsUsable(tokens, now)) {
      decision.ready = TokenResult(entry.tokens);
      return decision;
    }
    if (now < entry.next_attempt_at()) {
      // Backing off after a failure: serve the old token while it lasts.
      if (IsUsable(tokens, now)) {
        decision.ready = TokenResult(entry.tokens);
      } else {
        decision.ready = entry.last_failure().value_or(
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

    if (cause == Cause::kRejectedByBackend) ++rejected_token_refreshes_;
    entry.MutableRefresh().flight = std::make_shared<Flight>();
    NoteChanged(key);
    decision.job = std::make_shared<RefreshJob>();
    decision.job->flight = entry.flight();
    decision.job->generation = entry.generation;
    decision.job->provider = std::move(provider);
    decision.job->current = entry.tokens;
    decision.job->unsaved = entry.unsaved();
    decision.job->cause = cause;
  }

  decision.flight = entry.flight();
  decision.channel = std::make_shared<WakeChannel>(executor, 1);
  decision.flight->waiters.push_back(decision.channel);
  return decision;
}

TokenManager::Entry* TokenManager::FindCurrent(const std::string& key, uint64_t generation) {
  Entry* entry = entries_.Find(key);
  if (entry == nullptr || entry->generation != generation) return nullptr;
  return entry;
}

TimePoint TokenManager::NextAttemptAt(Entry& entry, TimePoint now, std::chrono::seconds base) {
  Entry::RefreshState& refresh = entry.MutableRefresh();
  ++refresh.failures;
  return now + RetryDelay(base, options_.max_retry_delay, refresh.failures, random_);
}

}  // namespace credgate::credentials
