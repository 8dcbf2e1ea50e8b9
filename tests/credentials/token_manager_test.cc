#include "credentials/token_manager.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "fake_http_client.h"
#include "run_coroutine.h"

namespace credgate::credentials {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpClient;
using testing::RunCoroutine;

class FakePersistence final : public TokenPersistence {
 public:
  boost::asio::awaitable<Status> SaveTokens(const std::string& key,
                                            const TokenSet& tokens) override {
    std::lock_guard lock(mutex_);
    ++saves_;
    last_key_ = key;
    last_access_token_ = std::string(tokens.access_token.Expose());
    if (fail_saves_) co_return MakeError(ErrorCode::kUnavailable, "store is down");
    co_return OkStatus();
  }
  boost::asio::awaitable<void> MarkConnectionError(const std::string& key,
                                                   ConnectionError error) override {
    std::lock_guard lock(mutex_);
    errors_.push_back({key, std::move(error)});
    co_return;
  }

  std::mutex mutex_;
  int saves_ = 0;
  bool fail_saves_ = false;
  std::string last_key_;
  std::string last_access_token_;
  std::vector<std::pair<std::string, ConnectionError>> errors_;
};

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

TEST_F(TokenManagerTest, RemovedConnectionIsUnknown) {
  SetTokens(0s, 3600s);
  manager_.Remove(kKey);
  EXPECT_FALSE(Get().ok());
  EXPECT_FALSE(manager_.GetState(kKey).has_value());
}

}  // namespace
}  // namespace credgate::credentials
