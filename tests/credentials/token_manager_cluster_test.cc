// TokenManager with a store that other gateways share: the refresh claim, adopting tokens that
// another gateway stored, and the lost rotation after an unfinished attempt.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <mutex>

#include "credentials/token_manager.h"
#include "fake_http_client.h"
#include "run_coroutine.h"

namespace credgate::credentials {
namespace {

using namespace std::chrono_literals;
using testing::FakeHttpClient;
using testing::RunCoroutine;

// A persistence whose claim, commit and load results the test scripts, standing in for the
// shared store and the other gateways that write to it.
class SharedStorePersistence final : public TokenPersistence {
 public:
  boost::asio::awaitable<Result<int64_t>> SaveTokens(const std::string&,
                                                     const TokenSet&) override {
    std::lock_guard lock(mutex_);
    co_return ++stored_version_;
  }
  boost::asio::awaitable<void> MarkConnectionError(const std::string&,
                                                   ConnectionError error) override {
    std::lock_guard lock(mutex_);
    errors_.push_back(std::move(error));
    co_return;
  }
  boost::asio::awaitable<Result<RefreshClaim>> ClaimRefresh(const std::string&,
                                                            int64_t version) override {
    std::lock_guard lock(mutex_);
    claimed_versions_.push_back(version);
    if (stored_ != nullptr && stored_->version > version) {
      RefreshClaim claim;
      claim.outcome = RefreshClaim::Outcome::kSuperseded;
      claim.stored = stored_;
      co_return claim;
    }
    if (claims_.empty()) co_return RefreshClaim{};
    RefreshClaim claim = claims_.front();
    if (claims_.size() > 1) claims_.pop_front();
    co_return claim;
  }
  boost::asio::awaitable<Result<int64_t>> CommitRefresh(const std::string&, const TokenSet&,
                                                        int64_t expected_version) override {
    std::lock_guard lock(mutex_);
    ++commits_;
    if (commit_conflicts_) {
      co_return MakeError(ErrorCode::kConflict, "the stored version is newer");
    }
    co_return expected_version + 1;
  }
  boost::asio::awaitable<void> ReleaseRefresh(const std::string&, bool attempt_finished) override {
    std::lock_guard lock(mutex_);
    releases_.push_back(attempt_finished);
    co_return;
  }
  boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> LoadTokens(
      const std::string& key) override {
    std::lock_guard lock(mutex_);
    if (stored_ == nullptr) co_return MakeError(ErrorCode::kNotFound, "no tokens for " + key);
    co_return stored_;
  }

  // Makes the store hold tokens that another gateway wrote.
  void StoreOther(std::string access_token, int64_t version) {
    auto tokens = std::make_shared<TokenSet>();
    tokens->access_token = Secret(std::move(access_token));
    tokens->refresh_token = Secret("other-rt");
    tokens->version = version;
    std::lock_guard lock(mutex_);
    stored_ = std::move(tokens);
  }

  std::mutex mutex_;
  int64_t stored_version_ = 0;
  std::shared_ptr<const TokenSet> stored_;
  std::deque<RefreshClaim> claims_;  // The last one repeats.
  bool commit_conflicts_ = false;
  int commits_ = 0;
  std::vector<int64_t> claimed_versions_;
  std::vector<bool> releases_;
  std::vector<ConnectionError> errors_;
};

RefreshClaim Busy(TimePoint until) {
  RefreshClaim claim;
  claim.outcome = RefreshClaim::Outcome::kBusy;
  claim.busy_until = until;
  return claim;
}

RefreshClaim UnfinishedAttempt() {
  RefreshClaim claim;
  claim.unfinished_attempt = true;
  claim.unfinished_holder = "gateway-b";
  return claim;
}

class TokenManagerClusterTest : public ::testing::Test {
 protected:
  static constexpr char kKey[] = "idp/alice";

  TokenManagerClusterTest() {
    auto provider = std::make_shared<ProviderConfig>();
    provider->id = "idp";
    provider->client_id = "client";
    provider->client_secret = Secret("secret");
    provider->token_url = "https://idp.example/token";
    manager_.SetProvider(provider);
    http_.Respond(200, R"({"access_token":"new-at","refresh_token":"new-rt","expires_in":3600})");
  }

  static TokenManager::Options FastPolling() {
    TokenManager::Options options;
    options.busy_poll_interval = 10ms;
    options.busy_wait_limit = 2'000ms;
    return options;
  }

  // Stores tokens of store version 1 that expire `remaining` from now.
  void SetTokens(std::chrono::seconds remaining) {
    TokenSet tokens;
    tokens.access_token = Secret("old-at");
    tokens.refresh_token = Secret("old-rt");
    tokens.obtained_at = clock_.Now() - 3600s;
    tokens.expires_at = clock_.Now() + remaining;
    tokens.version = 1;
    manager_.SetTokens(kKey, std::move(tokens));
  }

  // Makes the token endpoint return this response to every request.
  void RespondOnly(int status, std::string body, std::string content_type = "application/json") {
    http_.Reset();
    http_.Respond(status, std::move(body), std::move(content_type));
  }

  Result<std::shared_ptr<const TokenSet>> Get() {
    return RunCoroutine(manager_.GetAccessToken(kKey));
  }

  // Requests the token while another gateway stores `access_token` at `version` after `delay`.
  Result<std::shared_ptr<const TokenSet>> RunWithOtherGatewayStoring(std::string access_token,
                                                                     int64_t version,
                                                                     std::chrono::milliseconds delay) {
    boost::asio::io_context io;
    std::optional<Result<std::shared_ptr<const TokenSet>>> result;
    boost::asio::co_spawn(io, testing::AwaitInto(manager_.GetAccessToken(kKey), result),
                          boost::asio::detached);
    boost::asio::steady_timer other_gateway(io, delay);
    other_gateway.async_wait([&](auto) { persistence_.StoreOther(access_token, version); });
    io.run();
    if (!result) return MakeError(ErrorCode::kInternal, "the request did not finish");
    return std::move(*result);
  }

  FakeClock clock_;
  FakeHttpClient http_;
  SharedStorePersistence persistence_;
  TokenClient client_{http_, clock_};
  TokenManager manager_{client_, persistence_, clock_, FastPolling()};
};

TEST_F(TokenManagerClusterTest, ClaimCarriesHeldVersion) {
  SetTokens(30s);
  auto result = Get();
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->access_token.Expose(), "new-at");
  EXPECT_EQ((*result)->version, 2);
  ASSERT_EQ(persistence_.claimed_versions_.size(), 1u);
  EXPECT_EQ(persistence_.claimed_versions_[0], 1);
  EXPECT_EQ(persistence_.commits_, 1);
}

TEST_F(TokenManagerClusterTest, NewerStoredTokensAreAdoptedWithoutProviderCall) {
  SetTokens(30s);
  persistence_.StoreOther("other-at", 5);
  auto result = Get();
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->access_token.Expose(), "other-at");
  EXPECT_EQ(http_.RequestCount(), 0u);
  EXPECT_EQ(manager_.GetCounters().refreshes_adopted, 1u);
  EXPECT_EQ(manager_.TokenVersion(kKey), 5);
}

TEST_F(TokenManagerClusterTest, BusyWithValidTokenServesItWithoutWaiting) {
  SetTokens(30s);
  persistence_.claims_.push_back(Busy(clock_.Now() + 20s));
  auto result = Get();
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->access_token.Expose(), "old-at");
  EXPECT_EQ(http_.RequestCount(), 0u);
  // The next request within the recheck interval does not ask the store again.
  ASSERT_TRUE(Get().ok());
  EXPECT_EQ(persistence_.claimed_versions_.size(), 1u);
}

TEST_F(TokenManagerClusterTest, BusyWithExpiredTokenWaitsForOtherCommit) {
  SetTokens(-1s);
  persistence_.claims_.push_back(Busy(clock_.Now() + 20s));
  auto result = RunWithOtherGatewayStoring("other-at", 2, 50ms);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->get()->access_token.Expose(), "other-at");
  EXPECT_EQ(http_.RequestCount(), 0u);
  EXPECT_GE(persistence_.claimed_versions_.size(), 2u);
}

TEST_F(TokenManagerClusterTest, BusyTooLongIsUnavailable) {
  SetTokens(-1s);
  persistence_.claims_.push_back(Busy(clock_.Now() + 20s));
  auto result = Get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(http_.RequestCount(), 0u);
}

TEST_F(TokenManagerClusterTest, RejectionAfterUnfinishedAttemptIsLostRotation) {
  SetTokens(30s);
  persistence_.claims_.push_back(UnfinishedAttempt());
  RespondOnly(400, R"({"error":"invalid_grant","error_description":"token already used"})");
  auto result = Get();
  // The old access token is still valid, but the connection now needs a new sign-in.
  ASSERT_EQ(persistence_.errors_.size(), 1u);
  EXPECT_EQ(persistence_.errors_[0].code, kRefreshTokenRotationLost);
  EXPECT_NE(persistence_.errors_[0].message.find("gateway-b"), std::string::npos);
  EXPECT_EQ(manager_.GetCounters().rotations_lost, 1u);
  ASSERT_TRUE(manager_.GetState(kKey).has_value());
  EXPECT_EQ(manager_.GetState(kKey)->status, ConnectionStatus::kError);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, kRefreshTokenRotationLost);
  // The claim stays until it expires, so other gateways do not try the dead grant again.
  EXPECT_TRUE(persistence_.releases_.empty());
}

TEST_F(TokenManagerClusterTest, RejectionWithoutUnfinishedAttemptIsReloginRequired) {
  SetTokens(30s);
  RespondOnly(400, R"({"error":"invalid_grant"})");
  auto result = Get();
  ASSERT_EQ(persistence_.errors_.size(), 1u);
  EXPECT_EQ(persistence_.errors_[0].code, kReloginRequired);
  EXPECT_EQ(manager_.GetCounters().rotations_lost, 0u);
}

TEST_F(TokenManagerClusterTest, RejectionAfterOtherRotationAdoptsStored) {
  SetTokens(30s);
  RespondOnly(400, R"({"error":"invalid_grant"})");
  // Another gateway rotates and stores while this one's token request is in flight.
  http_.SetDelay(20ms);
  auto result = RunWithOtherGatewayStoring("other-at", 2, 5ms);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->get()->access_token.Expose(), "other-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_TRUE(persistence_.errors_.empty());
  EXPECT_EQ(manager_.GetCounters().refreshes_adopted, 1u);
}

TEST_F(TokenManagerClusterTest, CommitConflictAdoptsStored) {
  SetTokens(30s);
  persistence_.commit_conflicts_ = true;
  http_.SetDelay(20ms);
  auto result = RunWithOtherGatewayStoring("other-at", 3, 5ms);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->get()->access_token.Expose(), "other-at");
  EXPECT_EQ(http_.RequestCount(), 1u);
  EXPECT_EQ(persistence_.commits_, 1);
  EXPECT_EQ(manager_.TokenVersion(kKey), 3);
}

TEST_F(TokenManagerClusterTest, TransientFailureKeepsAttemptRecorded) {
  SetTokens(30s);
  RespondOnly(503, "busy", "text/plain");
  auto result = Get();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)->access_token.Expose(), "old-at");
  ASSERT_EQ(persistence_.releases_.size(), 1u);
  EXPECT_FALSE(persistence_.releases_[0]);
}

TEST_F(TokenManagerClusterTest, AdoptStoredTokensIgnoresOlderVersions) {
  SetTokens(3600s);
  TokenSet older;
  older.access_token = Secret("older-at");
  older.version = 1;
  EXPECT_FALSE(manager_.AdoptStoredTokens(kKey, std::move(older)));
  TokenSet newer;
  newer.access_token = Secret("newer-at");
  newer.version = 2;
  EXPECT_TRUE(manager_.AdoptStoredTokens(kKey, std::move(newer)));
  auto result = Get();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)->access_token.Expose(), "newer-at");
}

}  // namespace
}  // namespace credgate::credentials
