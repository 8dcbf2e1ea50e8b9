// RefreshScheduler: refreshes connections in the background, before requests need it and
// before refresh tokens die unused. Every refresh goes through TokenManager::Refresh, whose
// single flight per connection means a request and the scheduler never refresh one connection
// twice at once.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/clock.h"
#include "common/random.h"
#include "credentials/due_index.h"
#include "credentials/token_manager.h"

namespace credgate::credentials {

// The scheduler keeps an index of connections by due time (DueAt), updated from the manager's
// change feed (TokenManager::TakeChanges), so that a scan reads only the connections that
// changed since the last one and visits only those due soon. It takes changes in batches of
// Options::change_batch, so the manager's mutex is never held for more than one batch, and the
// scan loop lets the executor run other handlers between batches.
//
// Due times (DueAt):
// - A used connection (a request received its current access token) is refreshed before
//   RefreshDueAt (refresh_timing.h), earlier by a random part of the spread, so that thousands
//   of tokens that expire together reach the provider over a window. This applies only to
//   access tokens that live at least Options::min_token_lifetime: shorter-lived ones would keep
//   the provider busy, and the request path refreshes them. An idle connection (no request
//   received its current token) is not refreshed ahead of expiry.
// - A client credentials connection counts as having a refresh token, because the manager
//   requests a new token for it.
// - Any connection is refreshed before its refresh token would expire (RefreshTokenExpiresAt)
//   by a tenth of the refresh token's lifetime (at least the refresh margin) plus spread.
// - A connection whose access token expired without a refresh token is due at expiry, so that
//   the manager marks it ReloginRequired without waiting for a request.
// - A connection whose refreshed tokens wait to be saved is due at once.
// No due time falls before the end of the manager's backoff. Due connections are refreshed
// earliest first, with at most Options::max_concurrent_per_provider refreshes per provider at
// a time. The scheduler sleeps until the next due time, or Options::scan_interval at most, so
// tokens of a new login are seen within one scan interval.
//
// Burst limit: no more than Options::max_refresh_rate refreshes start in any one-second window,
// across all providers. Each scan plans start times with PlanRefreshStarts (refresh_timing.h),
// which moves refreshes ahead of their due time when more are due together than the rate
// allows, so each one still starts before its access token expires when the rate leaves room.
// A refresh that starts after its access token expired is counted in Counters::refreshes_late
// and logged at most once a minute.
//
// Threading: the scheduler's state lives on `executor`, which must not run handlers
// concurrently (an io_context run by one thread, or a strand). Call Start() once, and Stop()
// and ScanOnce() on that executor or while it does not run. `manager`, `clock` and `random`
// must outlive the scheduler, and the scheduler must outlive its executor's run, as
// TokenManager must.
class RefreshScheduler {
 public:
  struct Options {
    std::chrono::seconds scan_interval{30};
    std::chrono::seconds min_token_lifetime{60};
    // Refreshes of one due time spread over this fraction of the lifetime before it, but over
    // max_spread at most.
    double spread_fraction = 0.1;
    std::chrono::seconds max_spread{600};
    size_t max_concurrent_per_provider = 4;
    // The maximum number of refreshes that start in any one-second window; must be positive.
    double max_refresh_rate = 100;
    // Changed connections read from the manager under one hold of its mutex; must be positive.
    size_t change_batch = 256;
  };

  // Running totals, for metrics.
  struct Counters {
    uint64_t scans = 0;
    uint64_t refreshes_started = 0;
    uint64_t refresh_failures = 0;  // Refreshes that returned an error.
    // Refreshes due before their access token expired that started after it, because the rate
    // limit left no earlier start.
    uint64_t refreshes_late = 0;
    // Times a worker stopped because the rate limit's one-second window was full.
    uint64_t rate_limited = 0;
  };

  RefreshScheduler(boost::asio::any_io_executor executor, TokenManager& manager, const Clock& clock,
                   RandomSource& random, Options options);
  RefreshScheduler(boost::asio::any_io_executor executor, TokenManager& manager, const Clock& clock,
                   RandomSource& random);

  ~RefreshScheduler();

  RefreshScheduler(const RefreshScheduler&) = delete;
  RefreshScheduler& operator=(const RefreshScheduler&) = delete;

  // Starts the scan loop on the executor. The first scan runs at once.
  void Start();
  // Stops scanning and starting refreshes. Refreshes already running finish on their own.
  void Stop();

  // Scans once: reads every pending change, starts the refreshes that are due and returns when
  // the next scan should run. Public for tests, which drive it with a FakeClock.
  TimePoint ScanOnce();

  // The number of connections in the due-time index, for tests and the scale benchmark.
  size_t IndexedCount() const { return index_.size(); }

  // Returns when the scheduler refreshes `candidate`, or nullopt when it does not. `spread` is
  // the connection's random fraction in [0, 1) of the spread window.
  static std::optional<TimePoint> DueAt(const TokenManager::RefreshCandidate& candidate,
                                        const RefreshTiming& timing, const Options& options,
                                        double spread);

  // Thread-safe.
  Counters GetCounters() const;

 private:
  struct QueuedRefresh {
    TimePoint due;
    // The access token's expiry when the refresh is due before it, else TimePoint::max().
    TimePoint deadline;
    std::string connection_key;
    std::weak_ptr<const TokenSet> tokens;
  };

  // Records a refresh start at `now` and returns true, unless max_refresh_rate refreshes
  // started in the second before `now`.
  bool TakeStartSlot(TimePoint now);
  // Reads one batch of changes into the index; returns false when none was left.
  bool ApplyChanges();

  boost::asio::awaitable<void> Loop();
  boost::asio::awaitable<void> Worker(std::string provider_id);

  boost::asio::any_io_executor executor_;
  TokenManager& manager_;
  const Clock& clock_;
  RandomSource& random_;
  const Options options_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;

  const TokenManager::ChangeSubscription subscription_;
  // Connections with a due time. A connection's random spread is drawn again whenever its
  // tokens change.
  DueIndex index_;
  std::unordered_map<std::string, std::deque<QueuedRefresh>> queues_;  // By provider id.
  std::unordered_map<std::string, size_t> active_workers_;             // By provider id.
  std::deque<TimePoint> recent_starts_;  // Refresh starts of the last second, oldest first.
  uint64_t late_logged_ = 0;             // refreshes_late_ when the last scan logged it.
  TimePoint last_late_log_{};

  std::atomic<uint64_t> scans_{0};
  std::atomic<uint64_t> refreshes_started_{0};
  std::atomic<uint64_t> refresh_failures_{0};
  std::atomic<uint64_t> refreshes_late_{0};
  std::atomic<uint64_t> rate_limited_{0};
};

}  // namespace credgate::credentials
