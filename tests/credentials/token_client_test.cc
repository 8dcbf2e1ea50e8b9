#include "credentials/token_client.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "fake_http_client.h"
#include "run_coroutine.h"

namespace credgate::credentials {
namespace {

using testing::FakeHttpClient;
using testing::HeaderOf;
using testing::RunCoroutine;

class TokenClientTest : public ::testing::Test {
 protected:
  TokenClientTest() {
    provider_.id = "idp";
    provider_.client_id = "my:client";
    provider_.client_secret = Secret("s+cret:1");
    provider_.scopes = "read write";
    provider_.token_url = "https://idp.example/token";
    http_.Respond(200, R"({"access_token":"new-at","token_type":"Bearer","expires_in":60})");
  }

  Result<TokenSet> Exchange() {
    return RunCoroutine(client_.ExchangeCode(provider_, Secret("the-code"), "https://gw.example/cb",
                                             Secret("verifier")));
  }
  Result<TokenSet> Refresh() {
    return RunCoroutine(client_.RefreshToken(provider_, Secret("old-rt"), "read"));
  }
  FormFields SentFields() { return FormDecode(http_.LastRequest().body).value(); }

  FakeClock clock_;
  FakeHttpClient http_;
  TokenClient client_{http_, clock_};
  ProviderConfig provider_;
};

TEST_F(TokenClientTest, ExchangeSendsFormPost) {
  ASSERT_TRUE(Exchange().ok());
  const http::ClientRequest request = http_.LastRequest();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://idp.example/token");
  EXPECT_EQ(HeaderOf(request, "Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(HeaderOf(request, "Accept"), "application/json");
  EXPECT_EQ(SentFields(), (FormFields{{"grant_type", "authorization_code"},
                                      {"code", "the-code"},
                                      {"redirect_uri", "https://gw.example/cb"},
                                      {"code_verifier", "verifier"}}));
}

TEST_F(TokenClientTest, BasicAuthFormEncodesIdAndSecret) {
  ASSERT_TRUE(Exchange().ok());
  // RFC 6749 §2.3.1: "my%3Aclient:s%2Bcret%3A1" in base64.
  EXPECT_EQ(HeaderOf(http_.LastRequest(), "Authorization"),
            "Basic " + Base64Encode("my%3Aclient:s%2Bcret%3A1"));
}

TEST_F(TokenClientTest, PostAuthPutsCredentialsInBody) {
  provider_.client_auth_method = ClientAuthMethod::kClientSecretPost;
  ASSERT_TRUE(Exchange().ok());
  EXPECT_EQ(HeaderOf(http_.LastRequest(), "Authorization"), "");
  const FormFields fields = SentFields();
  EXPECT_EQ(fields[fields.size() - 2],
            (std::pair<std::string, std::string>("client_id", "my:client")));
  EXPECT_EQ(fields.back(), (std::pair<std::string, std::string>("client_secret", "s+cret:1")));
}

TEST_F(TokenClientTest, PublicClientSendsOnlyClientId) {
  provider_.client_secret = Secret();
  ASSERT_TRUE(Exchange().ok());
  EXPECT_EQ(HeaderOf(http_.LastRequest(), "Authorization"), "");
  EXPECT_EQ(SentFields().back(), (std::pair<std::string, std::string>("client_id", "my:client")));
}

TEST_F(TokenClientTest, ExchangeDefaultsScopeToProvider) {
  auto tokens = Exchange();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->scope, "read write");
  EXPECT_EQ(tokens->expires_at, clock_.Now() + std::chrono::seconds(60));
}

TEST_F(TokenClientTest, RefreshUsesRefreshUrl) {
  provider_.refresh_url = "https://idp.example/refresh";
  ASSERT_TRUE(Refresh().ok());
  EXPECT_EQ(http_.LastRequest().url, "https://idp.example/refresh");
  EXPECT_EQ(SentFields(),
            (FormFields{{"grant_type", "refresh_token"}, {"refresh_token", "old-rt"}}));
}

TEST_F(TokenClientTest, RefreshKeepsOldRefreshToken) {
  auto tokens = Refresh();
  ASSERT_TRUE(tokens.ok());
  EXPECT_TRUE(tokens->refresh_token.Equals("old-rt"));
  EXPECT_EQ(tokens->scope, "read");
}

TEST_F(TokenClientTest, RefreshRotatesRefreshToken) {
  FakeHttpClient http;
  TokenClient client(http, clock_);
  http.Respond(200, R"({"access_token":"at2","refresh_token":"new-rt"})");
  auto tokens = RunCoroutine(client.RefreshToken(provider_, Secret("old-rt"), "read"));
  ASSERT_TRUE(tokens.ok());
  EXPECT_TRUE(tokens->refresh_token.Equals("new-rt"));
}

TEST_F(TokenClientTest, TransportErrorNamesProvider) {
  http_.Fail(MakeError(ErrorCode::kDeadlineExceeded, "timed out after 10000 ms"));
  auto tokens = Refresh();
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(tokens.error().message,
            "token request to provider 'idp' failed: timed out after 10000 ms");
}

}  // namespace
}  // namespace credgate::credentials
