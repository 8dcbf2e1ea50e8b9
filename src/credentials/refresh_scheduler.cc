#include "credentials/refresh_scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <vector>

#include "credentials/refresh_timing.h"
#include "credentials/retry_backoff.h"

namespace credgate::credentials {

namespace asio = boost::asio;

namespace {

constexpr auto kMinSleep = std::chrono::seconds(1);
// A rate limit too low for the due refreshes is logged at most this often.
constexpr auto kLateLogInterval = std::chrono::minutes(1);

// Returns the part `spread` (in [0, 1)) of the spread window for a lifetime.
TimePoint::duration SpreadOf(TimePoint::duration lifetime, const RefreshScheduler::Options& options,
                             double spread) {
  const auto window = std::min<TimePoint::duration>(
      options.max_spread,
      std::chrono::duration_cast<TimePoint::duration>(lifetime * options.spread_fraction));
  return std::chrono::duration_cast<TimePoint::duration>(window * spread);
}

bool SameTokens(const std::weak_ptr<const TokenSet>& planned,
                const std::shared_ptr<const TokenSet>& current) {
  return !planned.owner_before(current) && !current.owner_before(planned);
}

}  // namespace

RefreshScheduler::RefreshScheduler(asio::any_io_executor executor, TokenManager& manager,
                                   const Clock& clock, RandomSource& random, Options options)
    : executor_(executor),
      manager_(manager),
      clock_(clock),
      random_(random),
      options_(options),
      timer_(executor),
      subscription_(manager.SubscribeChanges()) {}

RefreshScheduler::~RefreshScheduler() { manager_.UnsubscribeChanges(subscription_); }

RefreshScheduler::RefreshScheduler(asio::any_io_executor executor, TokenManager& manager,
                                   const Clock& clock, RandomSource& random)
    : RefreshScheduler(std::move(executor), manager, clock, random, Options()) {}

RefreshScheduler::Counters RefreshScheduler::GetCounters() const {
  Counters counters;
  counters.scans = scans_.load();
  counters.refreshes_started = refreshes_started_.load();
  counters.refresh_failures = refresh_failures_.load();
  counters.refreshes_late = refreshes_late_.load();
  counters.rate_limited = rate_limited_.load();
  return counters;
}

void RefreshScheduler::Start() {
  spdlog::info(
      "refresh scheduler started scan_interval_seconds={} max_concurrent_per_provider={} "
      "max_refresh_rate={}",
      options_.scan_interval.count(), options_.max_concurrent_per_provider,
      options_.max_refresh_rate);
  asio::co_spawn(executor_, Loop(), asio::detached);
}

void RefreshScheduler::Stop() {
  asio::dispatch(executor_, [this] {
    if (stopping_) return;
    stopping_ = true;
    timer_.cancel();
    spdlog::info("refresh scheduler stopped");
  });
}

std::optional<TimePoint> RefreshScheduler::DueAt(const TokenManager::RefreshCandidate& candidate,
                                                 const RefreshTiming& timing,
                                                 const Options& options, double spread) {
  if (candidate.unsaved) return candidate.retry_not_before;
  const TokenSet& tokens = *candidate.tokens;
  std::optional<TimePoint> due;
  auto consider = [&due](TimePoint at) {
    if (!due || at < *due) due = at;
  };

  // A client credentials connection gets a new token where others use a refresh token.
  const bool renewable = !tokens.refresh_token.empty() ||
                         candidate.provider->grant == GrantKind::kClientCredentials;
  if (!renewable) {
    if (tokens.expires_at) consider(*tokens.expires_at);
  } else {
    const std::optional<TimePoint::duration> lifetime = AccessTokenLifetime(tokens, timing);
    if (candidate.used && lifetime && *lifetime >= options.min_token_lifetime) {
      consider(*RefreshDueAt(tokens, timing) - SpreadOf(*lifetime, options, spread));
    }
    if (const std::optional<TimePoint> expiry =
            RefreshTokenExpiresAt(tokens, *candidate.provider)) {
      const TimePoint::duration refresh_lifetime = *expiry - tokens.obtained_at;
      const TimePoint::duration lead =
          std::max<TimePoint::duration>(timing.refresh_margin, refresh_lifetime / 10);
      consider(*expiry - lead - SpreadOf(refresh_lifetime, options, spread));
    }
  }
  if (due && *due < candidate.retry_not_before) due = candidate.retry_not_before;
  return due;
}

bool RefreshScheduler::ApplyChanges() {
  std::vector<TokenManager::RefreshCandidate> changes =
      manager_.TakeChanges(subscription_, options_.change_batch);
  const RefreshTiming& timing = manager_.options().timing;
  for (TokenManager::RefreshCandidate& candidate : changes) {
    const DueIndex::Entry* indexed = index_.Find(candidate.connection_key);
    std::optional<TimePoint> due;
    float spread = 0;
    if (candidate.tokens != nullptr && !candidate.refreshing) {
      const bool same =
          indexed != nullptr && SameTokens(indexed->fields().tokens, candidate.tokens);
      spread = same ? indexed->fields().spread : RandomFloatFraction(random_);
      due = DueAt(candidate, timing, options_, spread);
    }
    if (!due) {
      if (indexed != nullptr) index_.Erase(candidate.connection_key);
      continue;
    }
    const std::optional<TimePoint>& expiry = candidate.tokens->expires_at;
    index_.Set(candidate.connection_key,
               DueIndex::Fields{.tokens = candidate.tokens,
                                .due = *due,
                                .deadline = expiry && *due < *expiry ? *expiry : TimePoint::max(),
                                .spread = spread});
  }
  return changes.size() == options_.change_batch;
}

TimePoint RefreshScheduler::ScanOnce() {
  ++scans_;
  while (ApplyChanges()) {
  }
  const TimePoint now = clock_.Now();
  TimePoint next_scan = now + options_.scan_interval;

  struct Pending {
    QueuedRefresh refresh;
    std::string_view provider_id;  // Points into the index entry's key.
  };
  // The rate limit can move a refresh ahead of its due time by at most the time that all the
  // indexed refreshes take at that rate, so later ones cannot start within the next scan.
  const auto lead = std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(
      static_cast<double>(index_.size()) / options_.max_refresh_rate));
  const TimePoint visit_until = now + options_.scan_interval + kMinSleep + lead;
  std::vector<Pending> pending;
  for (const DueIndex::Entry& entry : index_) {
    const DueIndex::Fields& fields = entry.fields();
    if (fields.due >= visit_until) break;
    const std::string_view key = entry.key();
    pending.push_back(
        Pending{QueuedRefresh{fields.due, fields.deadline, std::string(key), fields.tokens},
                key.substr(0, key.find('/'))});
  }

  // Start times under the rate limit, in due order. Refreshes planned within the next second are
  // queued now, and TakeStartSlot keeps their actual starts within the limit.
  std::vector<TimePoint> due_times;
  due_times.reserve(pending.size());
  for (const Pending& item : pending) due_times.push_back(item.refresh.due);
  const std::vector<TimePoint> starts =
      PlanRefreshStarts(due_times, now, options_.max_refresh_rate);
  const TimePoint horizon = now + kMinSleep;
  std::map<std::string, std::vector<QueuedRefresh>> due_by_provider;
  size_t planned_late = 0;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (starts[i] > pending[i].refresh.deadline) ++planned_late;
    if (starts[i] >= horizon) {
      next_scan = std::min(next_scan, starts[i]);
      continue;
    }
    due_by_provider[std::string(pending[i].provider_id)].push_back(std::move(pending[i].refresh));
  }

  // The queues are rebuilt from each scan, so a connection that stopped being due leaves them.
  size_t queued = 0;
  for (auto& [provider_id, due] : due_by_provider) {
    std::deque<QueuedRefresh>& queue = queues_[provider_id];
    queue.assign(std::make_move_iterator(due.begin()), std::make_move_iterator(due.end()));
    queued += queue.size();

    size_t& active = active_workers_[provider_id];
    while (active < options_.max_concurrent_per_provider && active < queue.size()) {
      ++active;
      asio::co_spawn(executor_, Worker(provider_id), asio::detached);
    }
  }
  for (auto& [provider_id, queue] : queues_) {
    if (!due_by_provider.contains(provider_id)) queue.clear();
  }
  // Workers that the rate limit stopped leave items queued for the next scan.
  if (queued > 0) next_scan = std::min(next_scan, horizon);

  const uint64_t late = refreshes_late_.load();
  if ((late > late_logged_ || planned_late > 0) && now - last_late_log_ >= kLateLogInterval) {
    spdlog::warn(
        "refresh rate limit delays refreshes past expiry started_late_total={} "
        "planned_late={} max_refresh_rate={}: raise maxRefreshRate",
        late, planned_late, options_.max_refresh_rate);
    late_logged_ = late;
    last_late_log_ = now;
  }
  spdlog::debug("refresh scan indexed={} visited={} due={}", index_.size(), pending.size(), queued);
  return next_scan;
}

bool RefreshScheduler::TakeStartSlot(TimePoint now) {
  while (!recent_starts_.empty() && recent_starts_.front() <= now - std::chrono::seconds(1)) {
    recent_starts_.pop_front();
  }
  if (static_cast<double>(recent_starts_.size()) >= options_.max_refresh_rate) return false;
  recent_starts_.push_back(now);
  return true;
}

asio::awaitable<void> RefreshScheduler::Loop() {
  while (!stopping_) {
    // Many changes at once (the first scan after loading the store reads every connection) are
    // read a batch at a time, letting requests on this executor run in between.
    while (!stopping_ && ApplyChanges()) {
      co_await asio::post(executor_, asio::use_awaitable);
    }
    if (stopping_) break;
    const TimePoint next_scan = ScanOnce();
    using Duration = std::chrono::steady_clock::duration;
    const Duration longest = options_.scan_interval;
    const Duration shortest = std::min<Duration>(kMinSleep, longest);
    Duration sleep = std::chrono::duration_cast<Duration>(next_scan - clock_.Now());
    sleep = std::min(std::max(sleep, shortest), longest);
    timer_.expires_after(sleep);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> RefreshScheduler::Worker(std::string provider_id) {
  while (!stopping_) {
    std::deque<QueuedRefresh>& queue = queues_[provider_id];
    if (queue.empty()) break;
    std::shared_ptr<const TokenSet> seen = queue.front().tokens.lock();
    if (!seen) {  // A login or another refresh replaced the tokens.
      queue.pop_front();
      continue;
    }
    // A full window leaves the item queued; the next scan, at least a second later, resumes.
    const TimePoint now = clock_.Now();
    if (!TakeStartSlot(now)) {
      ++rate_limited_;
      break;
    }
    QueuedRefresh item = std::move(queue.front());
    queue.pop_front();
    if (now > item.deadline) ++refreshes_late_;

    ++refreshes_started_;
    auto refreshed =
        co_await manager_.Refresh(item.connection_key, seen, RefreshTrigger::kScheduled);
    if (!refreshed.ok()) ++refresh_failures_;
  }
  --active_workers_[provider_id];
}

}  // namespace credgate::credentials
