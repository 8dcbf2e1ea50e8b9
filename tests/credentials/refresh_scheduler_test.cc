#include "credentials/refresh_scheduler.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "fake_http_client.h"
#include "fake_persistence.h"
#include "fake_random.h"
#include "run_coroutine.h"

namespace credgate::credentials {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpClient;
using testing::FakePersistence;
using testing::RunCoroutine;

constexpr char kTokenUrl[] = "https://idp.example/token";
constexpr char kOtherTokenUrl[] = "https://other.example/token";

// Tokens expire after an hour, so the scheduler refreshes a used connection between 60 s
// (the refresh margin) and 60 s + 360 s (a tenth of the hour) before expiry.
class RefreshSchedulerTest : public ::testing::Test {
 protected:
  RefreshSchedulerTest() {
    AddProvider("idp", kTokenUrl);
    http_.Respond(200, R"({"access_token":"new-at","refresh_token":"new-rt","expires_in":3600})");
  }

  std::shared_ptr<ProviderConfig> AddProvider(const std::string& id, const std::string& url) {
    auto provider = std::make_shared<ProviderConfig>();
    provider->id = id;
    provider->client_id = "client";
    provider->client_secret = Secret("secret");
    provider->token_url = url;
    manager_.SetProvider(provider);
    return provider;
  }

  // Stores tokens obtained now that expire after `lifetime` (none for zero).
  void SetTokens(const std::string& key, std::chrono::seconds lifetime,
                 std::string refresh_token = "old-rt") {
    TokenSet tokens;
    tokens.access_token = Secret("old-at");
    tokens.refresh_token = Secret(std::move(refresh_token));
    tokens.obtained_at = clock_.Now();
    if (lifetime.count() > 0) tokens.expires_at = clock_.Now() + lifetime;
    tokens.token_type = "Bearer";
    manager_.SetTokens(key, std::move(tokens));
  }

  // A request reads the connection's tokens, which makes the connection used.
  void Use(const std::string& key) { ASSERT_TRUE(RunCoroutine(manager_.GetAccessToken(key)).ok()); }

  // Runs one scan and every refresh it started.
  TimePoint Scan() {
    TimePoint next = scheduler_.ScanOnce();
    io_.run();
    io_.restart();
    return next;
  }

  std::string CurrentToken(const std::string& key) {
    for (const auto& candidate : manager_.ListRefreshCandidates()) {
      if (candidate.connection_key == key) {
        return std::string(candidate.tokens->access_token.Expose());
      }
    }
    return "";
  }

  static TokenManager::Options ManagerOptions() {
    TokenManager::Options options;
    options.timing.default_token_lifetime = 3600s;
    return options;
  }

  FakeClock clock_;
  FakeHttpClient http_;
  FakePersistence persistence_;
  testing::SeededRandom random_{42};
  TokenClient client_{http_, clock_};
  TokenManager manager_{client_, persistence_, clock_, random_, ManagerOptions()};
  boost::asio::io_context io_;
  RefreshScheduler::Options options_;
  RefreshScheduler scheduler_{io_.get_executor(), manager_, clock_, random_, options_};
};

TEST_F(RefreshSchedulerTest, UsedConnectionRefreshedBeforeExpiry) {
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  const TimePoint expiry = clock_.Now() + 3600s;

  // Nothing is due for longer than the scan interval, so the next scan is one interval away.
  EXPECT_EQ(Scan(), clock_.Now() + options_.scan_interval);
  EXPECT_EQ(http_.RequestCount(), 0u);

  clock_.Set(expiry - 60s - 361s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 0u);
  clock_.Set(expiry - 60s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(CurrentToken("idp/alice"), "new-at");
  EXPECT_EQ(scheduler_.GetCounters().refreshes_started, 1u);
}

TEST_F(RefreshSchedulerTest, IdleConnectionNotRefreshedAhead) {
  SetTokens("idp/alice", 3600s);
  clock_.Advance(3599s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 0u);
  EXPECT_EQ(CurrentToken("idp/alice"), "old-at");
}

TEST_F(RefreshSchedulerTest, ShortLivedTokensLeftToRequests) {
  SetTokens("idp/alice", 59s);
  Use("idp/alice");
  clock_.Advance(58s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 0u);
}

TEST_F(RefreshSchedulerTest, ManyExpiriesSpreadOverWindow) {
  constexpr int kConnections = 200;
  for (int i = 0; i < kConnections; ++i) {
    const std::string key = "idp/user" + std::to_string(i);
    SetTokens(key, 3600s);
    Use(key);
  }
  const TimePoint expiry = clock_.Now() + 3600s;

  // Step through the 360-second window in tenths: each step starts only a share of them.
  clock_.Set(expiry - 60s - 360s);
  size_t before = http_.RequestCount();
  size_t largest_step = 0;
  for (int step = 1; step <= 10; ++step) {
    clock_.Advance(36s);
    Scan();
    largest_step = std::max(largest_step, http_.RequestCount() - before);
    before = http_.RequestCount();
  }
  EXPECT_EQ(http_.RequestCount(), static_cast<size_t>(kConnections));
  EXPECT_LT(largest_step, static_cast<size_t>(kConnections / 4)) << "refreshes bunched together";
}

TEST_F(RefreshSchedulerTest, ConcurrencyBoundedPerProvider) {
  AddProvider("other", kOtherTokenUrl);
  for (int i = 0; i < 10; ++i) {
    SetTokens("idp/user" + std::to_string(i), 3600s);
    SetTokens("other/user" + std::to_string(i), 3600s);
    Use("idp/user" + std::to_string(i));
    Use("other/user" + std::to_string(i));
  }
  http_.SetDelay(5ms);
  clock_.Advance(3600s);
  Scan();
  EXPECT_EQ(http_.RequestCount(kTokenUrl), 10u);
  EXPECT_EQ(http_.RequestCount(kOtherTokenUrl), 10u);
  EXPECT_EQ(http_.MaxInFlight(kTokenUrl), options_.max_concurrent_per_provider);
  EXPECT_EQ(http_.MaxInFlight(kOtherTokenUrl), options_.max_concurrent_per_provider);
}

TEST_F(RefreshSchedulerTest, IdleLifetimeKeepsRefreshTokenAlive) {
  auto provider = std::make_shared<ProviderConfig>();
  provider->id = "idp";
  provider->token_url = kTokenUrl;
  provider->refresh_token_idle_lifetime = std::chrono::hours(24 * 14);
  manager_.SetProvider(provider);
  SetTokens("idp/alice", 0s);  // Never used: only the refresh token's lifetime matters.
  const TimePoint deadline = clock_.Now() + std::chrono::hours(24 * 14);

  // The lead is a tenth of 14 days, and the spread 600 s at most.
  const TimePoint latest = deadline - std::chrono::seconds(14 * 24 * 3600) / 10;
  clock_.Set(latest - 601s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 0u);
  clock_.Set(latest);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 1u);
}

// Counts the draws from a seeded sequence.
class CountingRandom final : public RandomSource {
 public:
  void Fill(std::span<uint8_t> out) override {
    ++fills;
    sequence_.Fill(out);
  }
  int fills = 0;

 private:
  testing::SeededRandom sequence_{7};
};

TEST_F(RefreshSchedulerTest, SpreadDrawnOncePerTokenSet) {
  auto provider = AddProvider("idp", kTokenUrl);
  provider->refresh_token_idle_lifetime = std::chrono::hours(24 * 14);
  manager_.SetProvider(provider);
  CountingRandom random;
  RefreshScheduler scheduler(io_.get_executor(), manager_, clock_, random, options_);
  SetTokens("idp/alice", 3600s);
  scheduler.ScanOnce();
  ASSERT_EQ(scheduler.IndexedCount(), 1u);  // Due before the refresh token's idle lifetime ends.
  EXPECT_EQ(random.fills, 1);

  // The first use changes the due time but not the tokens, so the spread stays.
  Use("idp/alice");
  scheduler.ScanOnce();
  EXPECT_EQ(random.fills, 1);

  SetTokens("idp/alice", 3600s);
  scheduler.ScanOnce();
  EXPECT_EQ(random.fills, 2);
}

TEST_F(RefreshSchedulerTest, StatedRefreshTokenLifetimeKeepsItAlive) {
  TokenSet tokens;
  tokens.access_token = Secret("old-at");
  tokens.refresh_token = Secret("old-rt");
  tokens.obtained_at = clock_.Now();
  tokens.expires_at = clock_.Now() + std::chrono::hours(8);
  tokens.response["refresh_token_expires_in"] = 15897600;  // Six months.
  manager_.SetTokens("idp/alice", std::move(tokens));

  // Never used, so only the refresh token's lifetime schedules a refresh.
  clock_.Advance(std::chrono::seconds(15897600) * 9 / 10 - 601s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 0u);
  clock_.Advance(601s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(RefreshSchedulerTest, DefaultLifetimeForUnknownExpiry) {
  SetTokens("idp/alice", 0s);
  Use("idp/alice");
  clock_.Advance(3600s - 60s - 361s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 0u);
  clock_.Advance(361s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(RefreshSchedulerTest, ExpiredWithoutRefreshTokenNeedsRelogin) {
  SetTokens("idp/alice", 3600s, "");
  clock_.Advance(3599s);
  Scan();
  EXPECT_EQ(manager_.GetState("idp/alice")->status, ConnectionStatus::kConnected);
  clock_.Advance(1s);
  Scan();
  EXPECT_EQ(manager_.GetState("idp/alice")->error.code, "ReloginRequired");
  EXPECT_EQ(http_.RequestCount(), 0u);
  ASSERT_EQ(persistence_.errors_.size(), 1u);
}

TEST(RefreshSchedulerDueAt, ClientCredentialsRenewedBeforeExpiry) {
  TokenSet tokens;
  tokens.access_token = Secret("at");
  tokens.obtained_at = FromUnixSeconds(1000);
  tokens.expires_at = FromUnixSeconds(1000 + 3600);
  auto provider = std::make_shared<ProviderConfig>();
  provider->grant = GrantKind::kClientCredentials;
  TokenManager::RefreshCandidate candidate;
  candidate.tokens = std::make_shared<const TokenSet>(tokens);
  candidate.provider = provider;
  candidate.used = true;
  EXPECT_EQ(RefreshScheduler::DueAt(candidate, RefreshTiming(), RefreshScheduler::Options(), 0.0),
            FromUnixSeconds(1000 + 3600 - 60));
}

TEST_F(RefreshSchedulerTest, ReloginRequiredIsNotRetried) {
  http_.Reset();
  http_.Respond(400, R"({"error":"invalid_grant"})");
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  clock_.Advance(3590s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(manager_.GetState("idp/alice")->error.code, "ReloginRequired");
  clock_.Advance(3600s);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(RefreshSchedulerTest, BackoffIsRespected) {
  http_.Fail(MakeError(ErrorCode::kUnavailable, "connection refused"));
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  clock_.Advance(3590s);
  Scan();
  ASSERT_EQ(http_.RequestCount(), 1u);
  const TimePoint retry_at = manager_.ListRefreshCandidates().at(0).retry_not_before;
  EXPECT_GT(retry_at, clock_.Now());

  const TimePoint next = Scan();
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(next, retry_at);
  clock_.Set(retry_at);
  Scan();
  EXPECT_EQ(http_.RequestCount(), 2u);
  EXPECT_EQ(scheduler_.GetCounters().refresh_failures, 0u);  // The old token was still valid.
}

TEST_F(RefreshSchedulerTest, SharesRefreshWithRequest) {
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  http_.SetDelay(20ms);
  clock_.Advance(3590s);

  // A request starts the refresh, then a scan finds the connection refreshing.
  std::optional<Result<std::shared_ptr<const TokenSet>>> requested;
  boost::asio::co_spawn(io_, testing::AwaitInto(manager_.GetAccessToken("idp/alice"), requested),
                        boost::asio::detached);
  io_.poll();
  ASSERT_TRUE(manager_.ListRefreshCandidates().at(0).refreshing);
  scheduler_.ScanOnce();
  io_.run();
  io_.restart();

  ASSERT_TRUE(requested);
  ASSERT_TRUE(requested->ok());
  EXPECT_EQ((**requested)->access_token.Expose(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(scheduler_.GetCounters().refreshes_started, 0u);
}

TEST_F(RefreshSchedulerTest, RequestJoinsScheduledRefresh) {
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  http_.SetDelay(20ms);
  clock_.Advance(3590s);

  scheduler_.ScanOnce();
  std::optional<Result<std::shared_ptr<const TokenSet>>> requested;
  boost::asio::co_spawn(io_, testing::AwaitInto(manager_.GetAccessToken("idp/alice"), requested),
                        boost::asio::detached);
  io_.run();

  ASSERT_TRUE(requested);
  ASSERT_TRUE(requested->ok());
  EXPECT_EQ((**requested)->access_token.Expose(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(RefreshSchedulerTest, UnsavedTokensAreSavedWhenBackoffEnds) {
  persistence_.fail_saves_ = true;
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  clock_.Advance(3590s);
  Scan();
  ASSERT_EQ(persistence_.saves_, 1);
  ASSERT_TRUE(manager_.ListRefreshCandidates().at(0).unsaved);

  persistence_.fail_saves_ = false;
  clock_.Advance(10s);
  Scan();
  EXPECT_EQ(persistence_.saves_, 2);
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(CurrentToken("idp/alice"), "new-at");
}

TEST_F(RefreshSchedulerTest, StartScansAndStopEndsLoop) {
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  clock_.Advance(3590s);
  scheduler_.Start();
  io_.run_for(200ms);
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_GE(scheduler_.GetCounters().scans, 1u);

  scheduler_.Stop();
  io_.restart();
  io_.run();  // Returns because the loop ended.
  EXPECT_EQ(http_.RequestCount(), 1u);
}

// Steps the clock a second at a time until `until` and returns the largest number of token
// requests that one scan started.
size_t ScanEachSecond(FakeClock& clock, RefreshScheduler& scheduler, boost::asio::io_context& io,
                      FakeHttpClient& http, TimePoint until) {
  size_t largest = 0;
  while (clock.Now() < until) {
    const size_t before = http.RequestCount();
    scheduler.ScanOnce();
    io.run();
    io.restart();
    largest = std::max(largest, http.RequestCount() - before);
    clock.Advance(1s);
  }
  return largest;
}

TEST_F(RefreshSchedulerTest, RateLimitSpreadsBurstBeforeExpiry) {
  constexpr int kConnections = 5'000;
  for (int i = 0; i < kConnections; ++i) {
    const std::string key = "idp/user" + std::to_string(i);
    SetTokens(key, 3600s);
    Use(key);
  }
  const TimePoint expiry = clock_.Now() + 3600s;
  RefreshScheduler::Options options;
  options.max_refresh_rate = 10;
  RefreshScheduler limited(io_.get_executor(), manager_, clock_, random_, options);

  // 5,000 refreshes at 10 per second need 500 s, more than the 360-second spread window.
  clock_.Set(expiry - 700s);
  const size_t largest = ScanEachSecond(clock_, limited, io_, http_, expiry);

  EXPECT_EQ(http_.RequestCount(), static_cast<size_t>(kConnections));
  EXPECT_LE(largest, 10u);
  EXPECT_EQ(limited.GetCounters().refreshes_late, 0u);
}

TEST_F(RefreshSchedulerTest, RateLimitCountsLateRefreshes) {
  for (int i = 0; i < 30; ++i) {
    const std::string key = "idp/user" + std::to_string(i);
    SetTokens(key, 3600s);
    Use(key);
  }
  const TimePoint expiry = clock_.Now() + 3600s;
  RefreshScheduler::Options options;
  options.max_refresh_rate = 1;
  RefreshScheduler limited(io_.get_executor(), manager_, clock_, random_, options);

  // The scheduler first sees the tokens 10 s before they expire: 30 refreshes need 30 s, so
  // the refreshes of the 19 seconds after expiry start late.
  clock_.Set(expiry - 10s);
  const size_t largest = ScanEachSecond(clock_, limited, io_, http_, expiry + 30s);

  EXPECT_EQ(http_.RequestCount(), 30u);
  EXPECT_EQ(largest, 1u);
  EXPECT_EQ(limited.GetCounters().refreshes_late, 19u);
}

TEST_F(RefreshSchedulerTest, IndexHoldsOnlyConnectionsWithDueTime) {
  for (int i = 0; i < 100; ++i) SetTokens("idp/idle" + std::to_string(i), 3600s);
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");

  Scan();

  EXPECT_EQ(scheduler_.IndexedCount(), 1u);
}

TEST_F(RefreshSchedulerTest, ConnectionUsedAfterScanIsRefreshed) {
  SetTokens("idp/alice", 3600s);
  const TimePoint expiry = clock_.Now() + 3600s;
  Scan();
  ASSERT_EQ(scheduler_.IndexedCount(), 0u);

  Use("idp/alice");
  clock_.Set(expiry - 60s);
  Scan();

  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(CurrentToken("idp/alice"), "new-at");
}

TEST_F(RefreshSchedulerTest, RemovedConnectionLeavesIndex) {
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  const TimePoint expiry = clock_.Now() + 3600s;
  Scan();
  ASSERT_EQ(scheduler_.IndexedCount(), 1u);

  manager_.Remove("idp/alice");
  clock_.Set(expiry - 60s);
  Scan();

  EXPECT_EQ(scheduler_.IndexedCount(), 0u);
  EXPECT_EQ(http_.RequestCount(), 0u);
}

TEST_F(RefreshSchedulerTest, RemovedProviderLeavesIndex) {
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  Scan();
  ASSERT_EQ(scheduler_.IndexedCount(), 1u);

  manager_.RemoveProvider("idp");
  Scan();

  EXPECT_EQ(scheduler_.IndexedCount(), 0u);
}

TEST_F(RefreshSchedulerTest, RefreshedTokensGetNewDueTime) {
  SetTokens("idp/alice", 3600s);
  Use("idp/alice");
  clock_.Advance(3600s - 60s);
  Scan();
  ASSERT_EQ(http_.RequestCount(), 1u);

  // The next scan reads the new tokens. They are unused, so nothing is due until a request
  // receives them.
  Scan();
  EXPECT_EQ(scheduler_.IndexedCount(), 0u);
  Use("idp/alice");
  Scan();
  EXPECT_EQ(scheduler_.IndexedCount(), 1u);
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(RefreshSchedulerTest, SmallChangeBatchesReadEveryChange) {
  RefreshScheduler::Options options;
  options.change_batch = 3;
  RefreshScheduler batched(io_.get_executor(), manager_, clock_, random_, options);
  for (int i = 0; i < 10; ++i) {
    const std::string key = "idp/user" + std::to_string(i);
    SetTokens(key, 3600s);
    Use(key);
  }

  clock_.Advance(3600s - 60s);
  batched.ScanOnce();
  io_.run();

  EXPECT_EQ(http_.RequestCount(), 10u);
}

TEST(RefreshSchedulerDueAt, ExpiryWindow) {
  TokenSet tokens;
  tokens.access_token = Secret("at");
  tokens.refresh_token = Secret("rt");
  tokens.obtained_at = FromUnixSeconds(1000);
  tokens.expires_at = FromUnixSeconds(1000 + 3600);
  auto provider = std::make_shared<ProviderConfig>();
  TokenManager::RefreshCandidate candidate;
  candidate.tokens = std::make_shared<const TokenSet>(tokens);
  candidate.provider = provider;
  candidate.used = true;
  const RefreshTiming timing;
  const RefreshScheduler::Options options;

  EXPECT_EQ(RefreshScheduler::DueAt(candidate, timing, options, 0.0),
            FromUnixSeconds(1000 + 3600 - 60));
  EXPECT_EQ(RefreshScheduler::DueAt(candidate, timing, options, 0.5),
            FromUnixSeconds(1000 + 3600 - 60 - 180));
  candidate.retry_not_before = FromUnixSeconds(9000);
  EXPECT_EQ(RefreshScheduler::DueAt(candidate, timing, options, 0.5), FromUnixSeconds(9000));
  candidate.used = false;
  EXPECT_EQ(RefreshScheduler::DueAt(candidate, timing, options, 0.5), std::nullopt);
}

}  // namespace
}  // namespace credgate::credentials
