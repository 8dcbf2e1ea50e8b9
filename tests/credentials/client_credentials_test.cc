// A client credentials connection in the token manager: no refresh token, so a new token is
// requested with the client credentials grant where another connection would refresh.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "common/encoding.h"
#include "credentials/token_client.h"
#include "credentials/token_manager.h"
#include "fake_http_client.h"
#include "run_coroutine.h"

namespace credgate::credentials {
namespace {

using testing::FakeHttpClient;
using testing::RunCoroutine;

class RecordingPersistence final : public TokenPersistence {
 public:
  boost::asio::awaitable<Result<int64_t>> SaveTokens(const std::string& connection_key,
                                                     const TokenSet&) override {
    std::lock_guard lock(mutex_);
    saved_.push_back(connection_key);
    co_return static_cast<int64_t>(saved_.size());
  }
  boost::asio::awaitable<void> MarkConnectionError(const std::string&,
                                                   ConnectionError error) override {
    std::lock_guard lock(mutex_);
    errors_.push_back(std::move(error));
    co_return;
  }

  size_t SavedCount() const {
    std::lock_guard lock(mutex_);
    return saved_.size();
  }
  std::vector<ConnectionError> Errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> saved_;
  std::vector<ConnectionError> errors_;
};

class ClientCredentialsManagerTest : public ::testing::Test {
 protected:
  ClientCredentialsManagerTest() {
    auto provider = std::make_shared<ProviderConfig>();
    provider->id = "idp";
    provider->grant = GrantKind::kClientCredentials;
    provider->client_id = "daemon";
    provider->client_secret = Secret("daemon-secret");
    provider->scopes = "api.read";
    provider->token_url = "https://idp.example/token";
    manager_.SetClientCredentials("idp/daemon", provider);

    TokenSet first;
    first.access_token = Secret("first-token");
    first.obtained_at = clock_.Now();
    first.expires_at = clock_.Now() + std::chrono::seconds(600);
    first.scope = "api.read";
    manager_.SetTokens("idp/daemon", std::move(first));
  }

  Result<std::shared_ptr<const TokenSet>> Get() {
    return RunCoroutine(manager_.GetAccessToken("idp/daemon"));
  }

  FakeClock clock_;
  FakeHttpClient http_;
  TokenClient client_{http_, clock_};
  RecordingPersistence persistence_;
  TokenManager manager_{client_, persistence_, clock_};
};

TEST_F(ClientCredentialsManagerTest, ServesTokenUntilMargin) {
  auto tokens = Get();
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_TRUE((*tokens)->access_token.Equals("first-token"));
  EXPECT_EQ(http_.RequestCount(), 0u);
}

TEST_F(ClientCredentialsManagerTest, RequestsNewTokenAtExpiry) {
  http_.Respond(200, R"({"access_token":"second-token","token_type":"Bearer","expires_in":600})");
  clock_.Advance(std::chrono::seconds(600));
  auto tokens = Get();
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_TRUE((*tokens)->access_token.Equals("second-token"));
  ASSERT_EQ(http_.RequestCount(), 1u);
  const FormFields sent = FormDecode(http_.LastRequest().body).value();
  EXPECT_EQ(sent, (FormFields{{"grant_type", "client_credentials"}, {"scope", "api.read"}}));
  EXPECT_EQ(testing::HeaderOf(http_.LastRequest(), "Authorization"),
            "Basic " + Base64Encode("daemon:daemon-secret"));
  EXPECT_EQ(persistence_.SavedCount(), 1u);
}

TEST_F(ClientCredentialsManagerTest, RejectedRequestMarksError) {
  http_.Respond(401, R"({"error":"invalid_client","error_description":"bad secret"})");
  clock_.Advance(std::chrono::seconds(600));
  auto tokens = Get();
  ASSERT_FALSE(tokens.ok());
  EXPECT_NE(tokens.error().message.find("invalid_client"), std::string::npos)
      << tokens.error().message;
  const std::vector<ConnectionError> errors = persistence_.Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("invalid_client"), std::string::npos) << errors[0].message;
}

TEST_F(ClientCredentialsManagerTest, RemoveForgetsSettings) {
  manager_.Remove("idp/daemon");
  TokenSet expired;
  expired.access_token = Secret("old");
  expired.obtained_at = clock_.Now() - std::chrono::seconds(700);
  expired.expires_at = clock_.Now() - std::chrono::seconds(100);
  manager_.SetTokens("idp/daemon", std::move(expired));
  auto tokens = Get();
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(http_.RequestCount(), 0u);
}

}  // namespace
}  // namespace credgate::credentials
