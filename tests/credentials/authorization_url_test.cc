#include "credentials/authorization_url.h"

#include <gtest/gtest.h>

namespace credgate::credentials {
namespace {

class AuthorizationUrlTest : public ::testing::Test {
 protected:
  AuthorizationUrlTest() {
    provider_.id = "github";
    provider_.client_id = "client id+1";
    provider_.scopes = "repo read:user";
    provider_.authorization_url = "https://idp.example/authorize";
    request_.redirect_uri = "https://gw.example/callback?x=1";
    request_.state = "state-1";
    request_.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  }

  std::string Build() { return BuildAuthorizationUrl(provider_, request_).value(); }

  ProviderConfig provider_;
  AuthorizationRequest request_;
};

TEST_F(AuthorizationUrlTest, EncodesAllParameters) {
  EXPECT_EQ(Build(),
            "https://idp.example/authorize?response_type=code&client_id=client%20id%2B1"
            "&redirect_uri=https%3A%2F%2Fgw.example%2Fcallback%3Fx%3D1"
            "&scope=repo%20read%3Auser&state=state-1"
            "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            "&code_challenge_method=S256");
}

TEST_F(AuthorizationUrlTest, KeepsExistingQuery) {
  provider_.authorization_url = "https://idp.example/authorize?prompt=consent&audience=a%20b";
  const std::string url = Build();
  EXPECT_TRUE(url.starts_with("https://idp.example/authorize?prompt=consent&audience=a%20b&"));
  EXPECT_NE(url.find("&response_type=code&"), std::string::npos);
}

TEST_F(AuthorizationUrlTest, ReplacesParameterItSets) {
  provider_.authorization_url = "https://idp.example/authorize?client_id=old&tenant=t";
  const std::string url = Build();
  EXPECT_EQ(url.find("client_id=old"), std::string::npos);
  EXPECT_NE(url.find("client_id=client%20id%2B1"), std::string::npos);
  EXPECT_NE(url.find("tenant=t"), std::string::npos);
}

TEST_F(AuthorizationUrlTest, RequestScopesOverrideProvider) {
  request_.scopes = "openid email";
  EXPECT_NE(Build().find("&scope=openid%20email&"), std::string::npos);
}

TEST_F(AuthorizationUrlTest, OmitsEmptyScopeAndChallenge) {
  provider_.scopes.clear();
  request_.code_challenge.clear();
  const std::string url = Build();
  EXPECT_EQ(url.find("scope="), std::string::npos);
  EXPECT_EQ(url.find("code_challenge"), std::string::npos);
}

TEST_F(AuthorizationUrlTest, RejectsInvalidUrl) {
  provider_.authorization_url = "not a url";
  auto result = BuildAuthorizationUrl(provider_, request_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace credgate::credentials
