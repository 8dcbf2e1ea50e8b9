#include "credentials/token_manager.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <set>
#include <thread>

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

class TokenManagerTest : public ::testing::Test {
 protected:
  static constexpr char kKey[] = "idp/alice";

  TokenManagerTest() {
    auto provider = std::make_shared<ProviderConfig>();
    provider->id = "idp";
    provider->client_id = "client";
    provider->client_secret = Secret("secret");
    provider->token_url = "https://idp.example/token";
    manager_.SetProvider(provider);
    http_.Respond(200, R"({"access_token":"new-at","refresh_token":"new-rt","expires_in":3600})");
  }

  // Stores tokens obtained `age` ago that expire `remaining` from now.
  void SetTokens(std::chrono::seconds age, std::chrono::seconds remaining,
                 std::string refresh_token = "old-rt") {
    TokenSet tokens;
    tokens.access_token = Secret("old-at");
    tokens.refresh_token = Secret(std::move(refresh_token));
    tokens.obtained_at = clock_.Now() - age;
    tokens.expires_at = clock_.Now() + remaining;
    tokens.token_type = "Bearer";
    manager_.SetTokens(kKey, std::move(tokens));
  }

  Result<std::shared_ptr<const TokenSet>> Get(std::string key = kKey) {
    return RunCoroutine(manager_.GetAccessToken(std::move(key)));
  }
  std::string GetToken() {
    auto result = Get();
    if (!result.ok()) return "error: " + result.error().message;
    return std::string((*result)->access_token.Expose());
  }

  FakeClock clock_;
  FakeHttpClient http_;
  FakePersistence persistence_;
  TokenClient client_{http_, clock_};
  TokenManager manager_{client_, persistence_, clock_};
};

TEST_F(TokenManagerTest, FreshTokenWithoutIo) {
  SetTokens(0s, 3600s);
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(http_.RequestCount(), 0u);
  EXPECT_EQ(persistence_.saves_, 0);
}

TEST_F(TokenManagerTest, UnknownExpiryNeverRefreshes) {
  TokenSet tokens;
  tokens.access_token = Secret("forever");
  manager_.SetTokens(kKey, std::move(tokens));
  clock_.Advance(24h);
  EXPECT_EQ(GetToken(), "forever");
  EXPECT_EQ(http_.RequestCount(), 0u);
}

TEST_F(TokenManagerTest, UnknownConnection) {
  auto result = Get("idp/nobody");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
}

TEST_F(TokenManagerTest, NearExpiryRefreshesAndSaves) {
  SetTokens(3570s, 30s);
  EXPECT_EQ(GetToken(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(persistence_.saves_, 1);
  EXPECT_EQ(persistence_.last_key_, kKey);
  EXPECT_EQ(persistence_.last_access_token_, "new-at");
  EXPECT_EQ(GetToken(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(manager_.GetCounters().refreshes, 1u);
}

TEST_F(TokenManagerTest, CountsRefreshOutcomesByProvider) {
  using Outcome = TokenManager::RefreshOutcome;
  SetTokens(3570s, 30s);
  EXPECT_EQ(GetToken(), "new-at");
  auto outcomes = manager_.RefreshOutcomesByProvider();
  ASSERT_TRUE(outcomes.contains("idp"));
  EXPECT_EQ(outcomes["idp"][static_cast<size_t>(Outcome::kRefreshed)], 1u);
  EXPECT_EQ(outcomes["idp"][static_cast<size_t>(Outcome::kFailed)], 0u);

  SetTokens(3570s, 30s);
  http_.Reset();
  http_.Respond(401, R"({"error":"invalid_client"})");
  EXPECT_EQ(GetToken(), "old-at");
  outcomes = manager_.RefreshOutcomesByProvider();
  EXPECT_EQ(outcomes["idp"][static_cast<size_t>(Outcome::kProviderSettingsInvalid)], 1u);
  EXPECT_EQ(outcomes.size(), 1u);
}

TEST_F(TokenManagerTest, ShortLifetimeUsesHalfAsMargin) {
  SetTokens(0s, 60s);
  clock_.Advance(29s);
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(http_.RequestCount(), 0u);
  clock_.Advance(2s);
  EXPECT_EQ(GetToken(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(TokenManagerTest, ConcurrentCallersShareOneRefresh) {
  SetTokens(3570s, 30s);
  http_.SetDelay(50ms);
  boost::asio::io_context io;
  std::vector<std::optional<Result<std::shared_ptr<const TokenSet>>>> results(50);
  for (auto& result : results) {
    boost::asio::co_spawn(io, testing::AwaitInto(manager_.GetAccessToken(kKey), result),
                          boost::asio::detached);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run(); });
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(http_.RequestCount(), 1u);
  int new_tokens = 0;
  for (const auto& result : results) {
    if (result && result->ok() && (**result)->access_token.Equals("new-at")) ++new_tokens;
  }
  EXPECT_EQ(new_tokens, 50);
  EXPECT_EQ(persistence_.saves_, 1);
}

TEST_F(TokenManagerTest, InvalidGrantNeedsRelogin) {
  FakeHttpClient http;
  TokenClient client(http, clock_);
  TokenManager manager(client, persistence_, clock_);
  manager.SetProvider(std::make_shared<ProviderConfig>(ProviderConfig{.id = "idp"}));
  http.Respond(400, R"({"error":"invalid_grant","error_description":"refresh token revoked"})");
  TokenSet tokens;
  tokens.access_token = Secret("old-at");
  tokens.refresh_token = Secret("old-rt");
  tokens.obtained_at = clock_.Now() - 3570s;
  tokens.expires_at = clock_.Now() + 30s;
  manager.SetTokens(kKey, tokens);

  for (int i = 0; i < 10; ++i) {
    auto result = RunCoroutine(manager.GetAccessToken(kKey));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(result.error().reason, "ReloginRequired");
    EXPECT_NE(result.error().message.find("refresh token revoked"), std::string::npos);
  }
  EXPECT_EQ(http.RequestCount(), 1u);
  ASSERT_EQ(persistence_.errors_.size(), 1u);
  EXPECT_EQ(persistence_.errors_[0].second.code, "ReloginRequired");
  EXPECT_EQ(manager.GetState(kKey)->status, ConnectionStatus::kError);
  EXPECT_EQ(manager.GetCounters().relogins_required, 1u);

  // A new login resets the connection.
  manager.SetTokens(kKey, tokens);
  EXPECT_EQ(manager.GetState(kKey)->status, ConnectionStatus::kConnected);
}

TEST_F(TokenManagerTest, MissingRefreshTokenNeedsRelogin) {
  SetTokens(3600s, 0s, "");
  auto result = Get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, "ReloginRequired");
  EXPECT_EQ(http_.RequestCount(), 0u);
}

TEST_F(TokenManagerTest, MissingRefreshTokenServesValidToken) {
  SetTokens(3570s, 30s, "");
  EXPECT_EQ(GetToken(), "old-at");
  clock_.Advance(30s);
  EXPECT_EQ(GetToken(),
            "error: access token of connection 'idp/alice' expired and provider "
            "'idp' issued no refresh token; the user must sign in again");
  EXPECT_EQ(http_.RequestCount(), 0u);
}

TEST_F(TokenManagerTest, TransientFailureServesOldToken) {
  SetTokens(3570s, 30s);
  http_.Fail(MakeError(ErrorCode::kUnavailable, "connection refused"));
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(http_.RequestCount(), 1u);

  // Within the retry delay no new request starts.
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(http_.RequestCount(), 1u);

  // Past the retry delay it tries again, and once the token expired the failure shows.
  clock_.Advance(31s);
  auto result = Get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(http_.RequestCount(), 2u);
  EXPECT_EQ(manager_.GetState(kKey)->status, ConnectionStatus::kConnected);
}

TEST_F(TokenManagerTest, ProviderErrorMarksRefreshFailed) {
  SetTokens(3600s, 0s);
  http_.Fail(MakeError(ErrorCode::kBadGateway, "malformed response"));
  auto result = Get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kBadGateway);
  ASSERT_EQ(persistence_.errors_.size(), 1u);
  EXPECT_EQ(persistence_.errors_[0].second.code, "RefreshFailed");
}

TEST_F(TokenManagerTest, FailedSaveIsRetriedBeforeUse) {
  SetTokens(3570s, 30s);
  persistence_.fail_saves_ = true;
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(persistence_.saves_, 1);

  persistence_.fail_saves_ = false;
  clock_.Advance(6s);
  EXPECT_EQ(GetToken(), "new-at");
  EXPECT_EQ(persistence_.saves_, 2);
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(TokenManagerTest, ConnectionErrorKeepsProviderResponse) {
  SetTokens(3600s, 0s);
  http_.Reset();
  http_.Respond(400, R"({"error":"invalid_grant","error_description":"Token has been revoked."})");
  ASSERT_FALSE(Get().ok());
  ASSERT_EQ(persistence_.errors_.size(), 1u);
  const ConnectionError& error = persistence_.errors_[0].second;
  EXPECT_EQ(error.code, "ReloginRequired");
  EXPECT_NE(error.message.find("Token has been revoked."), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("Provider response: {\"error\":\"invalid_grant\""),
            std::string::npos)
      << error.message;
}

TEST_F(TokenManagerTest, NewLoginRestoresReloginRequired) {
  SetTokens(3600s, 0s);
  http_.Reset();
  http_.Respond(400, R"({"error":"invalid_grant"})");
  ASSERT_FALSE(Get().ok());
  ASSERT_EQ(manager_.GetState(kKey)->status, ConnectionStatus::kError);

  TokenSet login;
  login.access_token = Secret("login-at");
  login.refresh_token = Secret("login-rt");
  login.obtained_at = clock_.Now();
  login.expires_at = clock_.Now() + 3600s;
  manager_.SetTokens(kKey, std::move(login));
  EXPECT_EQ(manager_.GetState(kKey)->status, ConnectionStatus::kConnected);
  EXPECT_EQ(GetToken(), "login-at");

  // The restored connection refreshes again once its token nears expiry.
  http_.Reset();
  http_.Respond(200, R"({"access_token":"after-login-at","expires_in":3600})");
  clock_.Advance(3590s);
  EXPECT_EQ(GetToken(), "after-login-at");
  EXPECT_TRUE(http_.LastRequest().body.find("refresh_token=login-rt") != std::string::npos);
}

TEST_F(TokenManagerTest, MarkReloginRequiredStopsRefreshing) {
  SetTokens(3600s, 0s);
  manager_.MarkReloginRequired(kKey, ConnectionError{"ReloginRequired", "stored status"});
  auto result = Get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, "ReloginRequired");
  EXPECT_EQ(result.error().message, "stored status");
  EXPECT_EQ(http_.RequestCount(), 0u);
  EXPECT_TRUE(manager_.ListRefreshCandidates().empty());
}

TEST_F(TokenManagerTest, InvalidClientMarksProviderSettingsInvalid) {
  SetTokens(3570s, 30s);
  http_.Reset();
  http_.Respond(401, R"({"error":"invalid_client","error_description":"bad secret"})");
  EXPECT_EQ(GetToken(), "old-at");
  ASSERT_EQ(persistence_.errors_.size(), 1u);
  EXPECT_EQ(persistence_.errors_[0].second.code, "ProviderSettingsInvalid");
  EXPECT_NE(persistence_.errors_[0].second.message.find("Provider response:"), std::string::npos);
  EXPECT_EQ(manager_.GetState(kKey)->error.code, "ProviderSettingsInvalid");
  EXPECT_EQ(manager_.GetCounters().provider_settings_invalid, 1u);

  // Backing off: the next request does not call the provider.
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(http_.RequestCount(), 1u);

  // Saving the provider again ends the backoff, and the fixed settings work.
  auto provider = std::make_shared<ProviderConfig>();
  provider->id = "idp";
  provider->client_id = "client";
  provider->client_secret = Secret("fixed-secret");
  provider->token_url = "https://idp.example/token";
  manager_.SetProvider(provider);
  http_.Reset();
  http_.Respond(200, R"({"access_token":"fixed-at","expires_in":3600})");
  EXPECT_EQ(GetToken(), "fixed-at");
  EXPECT_EQ(http_.RequestCount(), 2u);
  EXPECT_EQ(manager_.GetState(kKey)->status, ConnectionStatus::kConnected);
}

TEST_F(TokenManagerTest, InvalidClientErrorReason) {
  SetTokens(3600s, 0s);
  http_.Reset();
  http_.Respond(401, R"({"error":"invalid_client"})");
  auto result = Get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, "ProviderSettingsInvalid");
}

TEST_F(TokenManagerTest, DefaultLifetimeRefreshesUnknownExpiry) {
  TokenManager::Options options;
  options.timing.default_token_lifetime = 3600s;
  TokenManager manager(client_, persistence_, clock_, options);
  manager.SetProvider(std::make_shared<ProviderConfig>(ProviderConfig{.id = "idp"}));
  TokenSet tokens;
  tokens.access_token = Secret("no-expiry-at");
  tokens.refresh_token = Secret("rt");
  tokens.obtained_at = clock_.Now();
  manager.SetTokens(kKey, std::move(tokens));

  clock_.Advance(3539s);
  EXPECT_EQ((*RunCoroutine(manager.GetAccessToken(kKey)))->access_token.Expose(), "no-expiry-at");
  EXPECT_EQ(http_.RequestCount(), 0u);
  clock_.Advance(1s);
  EXPECT_EQ((*RunCoroutine(manager.GetAccessToken(kKey)))->access_token.Expose(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(TokenManagerTest, DefaultLifetimeKeepsTokenWhenRefreshFails) {
  TokenManager::Options options;
  options.timing.default_token_lifetime = 3600s;
  TokenManager manager(client_, persistence_, clock_, options);
  manager.SetProvider(std::make_shared<ProviderConfig>(ProviderConfig{.id = "idp"}));
  TokenSet tokens;
  tokens.access_token = Secret("no-expiry-at");
  tokens.refresh_token = Secret("rt");
  tokens.obtained_at = clock_.Now();
  manager.SetTokens(kKey, std::move(tokens));

  http_.Fail(MakeError(ErrorCode::kDeadlineExceeded, "timed out"));
  clock_.Advance(7200s);
  auto result = RunCoroutine(manager.GetAccessToken(kKey));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->access_token.Expose(), "no-expiry-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(TokenManagerTest, ScheduledRefreshOfFreshToken) {
  SetTokens(0s, 3600s);
  auto seen = *Get();
  auto refreshed = RunCoroutine(manager_.Refresh(kKey, seen, RefreshTrigger::kScheduled));
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  EXPECT_EQ((*refreshed)->access_token.Expose(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(persistence_.saves_, 1);
}

TEST_F(TokenManagerTest, ScheduledRefreshOfReplacedToken) {
  SetTokens(0s, 3600s);
  auto stale = *Get();
  SetTokens(0s, 3600s, "login-rt");
  auto result = RunCoroutine(manager_.Refresh(kKey, stale, RefreshTrigger::kScheduled));
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->get(), stale.get());
  EXPECT_EQ(http_.RequestCount(), 0u);
}

TEST_F(TokenManagerTest, ChangeFeedStartsWithEveryConnection) {
  SetTokens(0s, 3600s);
  const TokenManager::ChangeSubscription subscription = manager_.SubscribeChanges();

  auto changes = manager_.TakeChanges(subscription, 10);

  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].connection_key, kKey);
  EXPECT_NE(changes[0].tokens, nullptr);
  EXPECT_TRUE(manager_.TakeChanges(subscription, 10).empty());
  manager_.UnsubscribeChanges(subscription);
}

TEST_F(TokenManagerTest, ChangeFeedTakesAtMostTheBatch) {
  const TokenManager::ChangeSubscription subscription = manager_.SubscribeChanges();
  for (int i = 0; i < 5; ++i) manager_.SetTokens("idp/user" + std::to_string(i), TokenSet{});

  EXPECT_EQ(manager_.TakeChanges(subscription, 2).size(), 2u);
  EXPECT_EQ(manager_.TakeChanges(subscription, 2).size(), 2u);
  EXPECT_EQ(manager_.TakeChanges(subscription, 2).size(), 1u);
  manager_.UnsubscribeChanges(subscription);
}

TEST_F(TokenManagerTest, ChangeFeedSurvivesRehashDuringFirstPass) {
  for (int i = 0; i < 3; ++i) manager_.SetTokens("idp/user" + std::to_string(i), TokenSet{});
  const TokenManager::ChangeSubscription subscription = manager_.SubscribeChanges();
  std::set<std::string> seen;
  for (const auto& change : manager_.TakeChanges(subscription, 1)) {
    seen.insert(change.connection_key);
  }

  // Enough new connections to rehash the table while the first pass is under way.
  for (int i = 3; i < 1000; ++i) manager_.SetTokens("idp/user" + std::to_string(i), TokenSet{});
  manager_.Remove("idp/user0");
  std::vector<TokenManager::RefreshCandidate> changes;
  do {
    changes = manager_.TakeChanges(subscription, 64);
    for (const auto& change : changes) seen.insert(change.connection_key);
  } while (changes.size() == 64);

  EXPECT_EQ(seen.size(), 1000u);
  manager_.UnsubscribeChanges(subscription);
}

TEST_F(TokenManagerTest, ChangeFeedSurvivesRemovalsDuringFirstPass) {
  for (int i = 0; i < 100; ++i) manager_.SetTokens("idp/user" + std::to_string(i), TokenSet{});
  const TokenManager::ChangeSubscription subscription = manager_.SubscribeChanges();
  std::set<std::string> seen;
  for (const auto& change : manager_.TakeChanges(subscription, 10)) {
    seen.insert(change.connection_key);
  }

  // Removing all but one of the connections the pass has not reached removes the one it reads
  // next, again and again. Without the pass stepping off an erased entry, the next batch reads
  // freed memory, which the sanitizer build of this test reports.
  std::string kept_key;
  for (int i = 99; i >= 0; --i) {
    const std::string key = "idp/user" + std::to_string(i);
    if (seen.contains(key)) continue;
    if (kept_key.empty()) {
      kept_key = key;
    } else {
      manager_.Remove(key);
    }
  }
  std::set<std::string> with_tokens;
  auto take = [&](size_t max) {
    std::vector<TokenManager::RefreshCandidate> changes = manager_.TakeChanges(subscription, max);
    for (const auto& change : changes) {
      seen.insert(change.connection_key);
      if (change.tokens != nullptr) with_tokens.insert(change.connection_key);
    }
    return changes.size();
  };
  take(3);
  // Connections added now may land before or after the pass's place.
  for (int i = 100; i < 105; ++i) manager_.SetTokens("idp/user" + std::to_string(i), TokenSet{});
  while (take(7) > 0) {
  }

  EXPECT_EQ(seen.size(), 105u);
  EXPECT_TRUE(with_tokens.contains(kept_key));
  for (int i = 100; i < 105; ++i) EXPECT_TRUE(with_tokens.contains("idp/user" + std::to_string(i)));
  EXPECT_EQ(manager_.ConnectionsWithTokens(), 16u);
  manager_.UnsubscribeChanges(subscription);
}

TEST_F(TokenManagerTest, ChangeFeedReportsFirstUseOnce) {
  SetTokens(0s, 3600s);
  const TokenManager::ChangeSubscription subscription = manager_.SubscribeChanges();
  manager_.TakeChanges(subscription, 10);

  ASSERT_TRUE(Get().ok());
  ASSERT_TRUE(Get().ok());

  auto changes = manager_.TakeChanges(subscription, 10);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_TRUE(changes[0].used);
  manager_.UnsubscribeChanges(subscription);
}

TEST_F(TokenManagerTest, ChangeFeedReportsRemovalWithoutTokens) {
  SetTokens(0s, 3600s);
  const TokenManager::ChangeSubscription subscription = manager_.SubscribeChanges();
  manager_.TakeChanges(subscription, 10);

  manager_.Remove(kKey);

  auto changes = manager_.TakeChanges(subscription, 10);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].connection_key, kKey);
  EXPECT_EQ(changes[0].tokens, nullptr);
  manager_.UnsubscribeChanges(subscription);
}

TEST_F(TokenManagerTest, ScheduledRefreshDoesNotMarkUsed) {
  SetTokens(0s, 3600s);
  auto seen = *Get();
  ASSERT_TRUE(manager_.ListRefreshCandidates().at(0).used);
  ASSERT_TRUE(RunCoroutine(manager_.Refresh(kKey, seen, RefreshTrigger::kScheduled)).ok());
  EXPECT_FALSE(manager_.ListRefreshCandidates().at(0).used);
  ASSERT_TRUE(Get().ok());
  EXPECT_TRUE(manager_.ListRefreshCandidates().at(0).used);
}

TEST_F(TokenManagerTest, RejectedTokenIsRefreshedOnce) {
  SetTokens(0s, 3600s);
  auto rejected = *Get();
  http_.SetDelay(20ms);
  boost::asio::io_context io;
  std::vector<std::optional<Result<std::shared_ptr<const TokenSet>>>> results(5);
  for (auto& result : results) {
    boost::asio::co_spawn(
        io,
        testing::AwaitInto(manager_.Refresh(kKey, rejected, RefreshTrigger::kRejectedByBackend),
                           result),
        boost::asio::detached);
  }
  io.run();
  for (const auto& result : results) {
    ASSERT_TRUE(result);
    ASSERT_TRUE(result->ok());
    EXPECT_EQ((**result)->access_token.Expose(), "new-at");
  }
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(manager_.GetCounters().rejected_token_refreshes, 1u);

  // A caller that still holds the rejected token gets the new one without another refresh.
  auto late = RunCoroutine(manager_.Refresh(kKey, rejected, RefreshTrigger::kRejectedByBackend));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ((*late)->access_token.Expose(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
}

TEST_F(TokenManagerTest, RejectedRefreshResultIsNotRefreshedAgainAtOnce) {
  SetTokens(0s, 3600s);
  auto first = RunCoroutine(manager_.Refresh(kKey, *Get(), RefreshTrigger::kRejectedByBackend));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(http_.RequestCount(), 1u);

  // The backend also rejects the new token: within the interval it is kept.
  clock_.Advance(29s);
  auto second = RunCoroutine(manager_.Refresh(kKey, *first, RefreshTrigger::kRejectedByBackend));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->get(), first->get());
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(manager_.GetCounters().rejected_token_refreshes_skipped, 1u);

  clock_.Advance(1s);
  auto third = RunCoroutine(manager_.Refresh(kKey, *first, RefreshTrigger::kRejectedByBackend));
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->get(), first->get());
  EXPECT_EQ(http_.RequestCount(), 2u);
}

TEST_F(TokenManagerTest, RejectedTokenWithoutRefreshTokenIsKept) {
  SetTokens(0s, 3600s, "");
  auto rejected = *Get();
  auto result = RunCoroutine(manager_.Refresh(kKey, rejected, RefreshTrigger::kRejectedByBackend));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->get(), rejected.get());
  EXPECT_EQ(http_.RequestCount(), 0u);
}

TEST_F(TokenManagerTest, RefreshCandidatesSkipBlockedAndUnregistered) {
  SetTokens(0s, 3600s);
  TokenSet other;
  other.access_token = Secret("other-at");
  manager_.SetTokens("gone/bob", other);
  manager_.SetTokens("idp/carol", other);
  manager_.MarkReloginRequired("idp/carol", ConnectionError{"ReloginRequired", "revoked"});

  auto candidates = manager_.ListRefreshCandidates();
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_EQ(candidates[0].connection_key, kKey);
  EXPECT_EQ(candidates[0].provider->id, "idp");
  EXPECT_FALSE(candidates[0].used);
  EXPECT_FALSE(candidates[0].refreshing);
  EXPECT_FALSE(candidates[0].unsaved);
}

TEST_F(TokenManagerTest, RemovedConnectionIsUnknown) {
  SetTokens(0s, 3600s);
  manager_.Remove(kKey);
  EXPECT_FALSE(Get().ok());
  EXPECT_FALSE(manager_.GetState(kKey).has_value());
}

}  // namespace
}  // namespace credgate::credentials

namespace credgate::credentials {
namespace {

// A manager whose tokens live two hours and are refreshed during their second hour, so that a
// token past its refresh time stays usable while the backoff is observed.
class TokenManagerBackoffTest : public ::testing::Test {
 protected:
  static constexpr char kKey[] = "idp/alice";

  static TokenManager::Options MakeOptions() {
    TokenManager::Options options;
    options.timing.refresh_margin = 3600s;
    return options;
  }

  TokenManagerBackoffTest() {
    auto provider = std::make_shared<ProviderConfig>();
    provider->id = "idp";
    provider->client_id = "client";
    provider->client_secret = Secret("secret");
    provider->token_url = "https://idp.example/token";
    manager_.SetProvider(provider);
    TokenSet tokens;
    tokens.access_token = Secret("old-at");
    tokens.refresh_token = Secret("old-rt");
    tokens.obtained_at = clock_.Now() - 3600s;
    tokens.expires_at = clock_.Now() + 3600s;
    manager_.SetTokens(kKey, std::move(tokens));
  }

  std::string GetToken() {
    auto result = RunCoroutine(manager_.GetAccessToken(kKey));
    if (!result.ok()) return "error: " + result.error().message;
    return std::string((*result)->access_token.Expose());
  }

  FakeClock clock_;
  FakeHttpClient http_;
  FakePersistence persistence_;
  testing::FixedRandom random_{0xFF};  // Delays just below their upper bound.
  TokenClient client_{http_, clock_};
  TokenManager manager_{client_, persistence_, clock_, random_, MakeOptions()};
};

TEST_F(TokenManagerBackoffTest, TransientDelayDoublesUpToCap) {
  http_.Fail(MakeError(ErrorCode::kUnavailable, "connection refused"));
  // Delays before each retry: 5 s, 10 s, 20 s, ... capped at 300 s, each just below its bound.
  const int64_t bounds[] = {5, 10, 20, 40, 80, 160, 300, 300};
  EXPECT_EQ(GetToken(), "old-at");
  size_t expected_requests = 1;
  for (int64_t bound : bounds) {
    ASSERT_EQ(http_.RequestCount(), expected_requests);
    clock_.Advance(std::chrono::seconds(bound) - 1s);
    EXPECT_EQ(GetToken(), "old-at");
    EXPECT_EQ(http_.RequestCount(), expected_requests) << "retried before " << bound << " s";
    clock_.Advance(1s);
    EXPECT_EQ(GetToken(), "old-at");
    ++expected_requests;
    EXPECT_EQ(http_.RequestCount(), expected_requests) << "no retry after " << bound << " s";
  }
  EXPECT_EQ(manager_.GetState(kKey)->status, ConnectionStatus::kConnected);
}

TEST_F(TokenManagerBackoffTest, SuccessResetsBackoff) {
  http_.Fail(MakeError(ErrorCode::kUnavailable, "connection refused"));
  EXPECT_EQ(GetToken(), "old-at");
  clock_.Advance(5s);
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(http_.RequestCount(), 2u);

  http_.Reset();
  http_.Respond(200, R"({"access_token":"new-at","expires_in":7200})");
  clock_.Advance(10s);
  EXPECT_EQ(GetToken(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 3u);

  // The next failure backs off from the base delay again, not from 20 s.
  http_.Fail(MakeError(ErrorCode::kUnavailable, "connection refused"));
  clock_.Advance(3600s);
  EXPECT_EQ(GetToken(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 4u);
  clock_.Advance(5s);
  EXPECT_EQ(GetToken(), "new-at");
  EXPECT_EQ(http_.RequestCount(), 5u);
}

TEST_F(TokenManagerBackoffTest, FailureBackoffStartsAtFailureDelay) {
  http_.Reset();
  http_.Respond(400, R"({"error":"invalid_scope"})");
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(manager_.GetState(kKey)->error.code, "RefreshFailed");
  clock_.Advance(59s);
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
  clock_.Advance(1s);
  EXPECT_EQ(GetToken(), "old-at");
  EXPECT_EQ(http_.RequestCount(), 2u);
}

// The failure's status and backoff live in state that a success frees again, so a recovered
// connection must read as if it never failed.
TEST_F(TokenManagerBackoffTest, RecoveryClearsFailureState) {
  http_.Reset();
  http_.Respond(400, R"({"error":"invalid_scope"})");
  EXPECT_EQ(GetToken(), "old-at");
  const auto failed = manager_.ListRefreshCandidates();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].retry_not_before, TimePoint{});

  http_.Reset();
  http_.Respond(200, R"({"access_token":"new-at","expires_in":7200})");
  clock_.Advance(60s);
  EXPECT_EQ(GetToken(), "new-at");
  const auto state = manager_.GetState(kKey);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->status, ConnectionStatus::kConnected);
  EXPECT_EQ(state->error.code, "");
  EXPECT_EQ(state->error.message, "");
  const auto recovered = manager_.ListRefreshCandidates();
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered[0].retry_not_before, TimePoint{});
  EXPECT_FALSE(recovered[0].refreshing);
  EXPECT_FALSE(recovered[0].unsaved);
}

}  // namespace
}  // namespace credgate::credentials
