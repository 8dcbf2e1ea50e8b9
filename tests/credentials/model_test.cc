#include "credentials/model.h"

#include <gtest/gtest.h>

namespace credgate::credentials {
namespace {

ProviderConfig ValidProvider() {
  ProviderConfig config;
  config.id = "github";
  config.client_id = "id";
  config.client_secret = Secret("secret");
  config.scopes = "repo read:user";
  config.authorization_url = "https://github.com/login/oauth/authorize";
  config.token_url = "https://github.com/login/oauth/access_token";
  return config;
}

TEST(ProviderValidation, AcceptsValidConfig) {
  EXPECT_TRUE(ValidateProviderConfig(ValidProvider()).ok());
}

TEST(ProviderValidation, NamesTheField) {
  struct Case {
    const char* field;
    void (*mutate)(ProviderConfig&);
  };
  const Case cases[] = {
      {"id", [](ProviderConfig& c) { c.id = "git/hub"; }},
      {"id", [](ProviderConfig& c) { c.id = ""; }},
      {"identityProvider", [](ProviderConfig& c) { c.identity_provider = "sa/ml"; }},
      {"clientId", [](ProviderConfig& c) { c.client_id.clear(); }},
      {"clientSecret", [](ProviderConfig& c) { c.client_secret = Secret(); }},
      {"scopes", [](ProviderConfig& c) { c.scopes = "a \"b\""; }},
      {"authorizationUrl", [](ProviderConfig& c) { c.authorization_url = "http://idp.example/a"; }},
      {"authorizationUrl", [](ProviderConfig& c) { c.authorization_url = "/relative"; }},
      {"tokenUrl", [](ProviderConfig& c) { c.token_url = "https://idp.example/t#frag"; }},
      {"tokenUrl", [](ProviderConfig& c) { c.token_url = "https://u:p@idp.example/t"; }},
      {"tokenUrl", [](ProviderConfig& c) { c.token_url = "ftp://idp.example/t"; }},
      {"refreshUrl", [](ProviderConfig& c) { c.refresh_url = "http://10.0.0.1/r"; }},
  };
  for (const Case& c : cases) {
    ProviderConfig config = ValidProvider();
    c.mutate(config);
    Status status = ValidateProviderConfig(config);
    ASSERT_FALSE(status.ok()) << c.field;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument) << c.field;
    EXPECT_TRUE(status.error().message.starts_with(std::string(c.field) + ":"))
        << status.error().message;
  }
}

TEST(ProviderValidation, PublicPkceClientNeedsNoSecret) {
  ProviderConfig config = ValidProvider();
  config.identity_provider = "oauth2pkce";
  config.client_secret_required = false;
  config.client_secret = Secret();
  EXPECT_TRUE(ValidateProviderConfig(config).ok());
}

TEST(ProviderValidation, HttpAllowedForLoopback) {
  for (const char* url : {"http://127.0.0.1:8080/t", "http://[::1]/t", "http://localhost/t"}) {
    EXPECT_TRUE(ValidateEndpointUrl("tokenUrl", url).ok()) << url;
  }
}

TEST(ProviderValidation, ErrorNeverShowsPassword) {
  Status status = ValidateEndpointUrl("tokenUrl", "https://user:hunter2@idp.example/t");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message.find("hunter2"), std::string::npos);
}

TEST(TokenSetJson, RoundTrip) {
  TokenSet tokens;
  tokens.access_token = Secret("at");
  tokens.refresh_token = Secret("rt");
  tokens.expires_at = FromUnixSeconds(1'700'003'600);
  tokens.obtained_at = FromUnixSeconds(1'700'000'000);
  tokens.token_type = "Bearer";
  tokens.scope = "repo";
  tokens.response["ext"] = "x";

  auto parsed = ParseTokenSet(SerializeTokenSet(tokens).Expose());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed->access_token == tokens.access_token);
  EXPECT_TRUE(parsed->refresh_token == tokens.refresh_token);
  EXPECT_EQ(parsed->expires_at, tokens.expires_at);
  EXPECT_EQ(parsed->obtained_at, tokens.obtained_at);
  EXPECT_EQ(parsed->scope, "repo");
  EXPECT_EQ(parsed->response, tokens.response);
}

TEST(TokenSetJson, UnknownExpiryRoundTrips) {
  TokenSet tokens;
  tokens.access_token = Secret("at");
  auto parsed = ParseTokenSet(SerializeTokenSet(tokens).Expose());
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->expires_at.has_value());
  EXPECT_TRUE(parsed->refresh_token.empty());
}

TEST(TokenSetJson, RejectsMalformed) {
  EXPECT_FALSE(ParseTokenSet("[]").ok());
  EXPECT_FALSE(ParseTokenSet(R"({"refresh_token":"rt"})").ok());
  EXPECT_FALSE(ParseTokenSet(R"({"access_token":"at","expires_at":"soon"})").ok());
}

}  // namespace
}  // namespace credgate::credentials
