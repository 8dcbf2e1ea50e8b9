// Token endpoint responses as providers send them, one recorded body per case under
// tests/fixtures/token_responses/.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "credentials/token_response.h"

namespace credgate::credentials {
namespace {

using std::chrono::seconds;

const TimePoint kNow = FromUnixSeconds(1'700'000'000);
constexpr char kRequestedScopes[] = "requested.scope";

std::string ReadFixture(const std::string& name) {
  std::ifstream file(std::string(CREDGATE_TOKEN_RESPONSE_FIXTURES) + "/" + name,
                     std::ios::binary);
  EXPECT_TRUE(file.good()) << "missing fixture " << name;
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

Result<TokenSet> ParseFixture(const std::string& name, int status,
                              const std::string& content_type) {
  http::ClientResponse response;
  response.status = status;
  response.body = ReadFixture(name);
  if (!content_type.empty()) response.headers.emplace_back("Content-Type", content_type);
  const TokenResponseOptions options{"provider-x", kRequestedScopes, kNow};
  return ParseTokenResponse(response, options);
}

struct SuccessCase {
  const char* fixture;
  int status;
  const char* content_type;
  const char* access_token;
  std::optional<seconds> expires_in;  // nullopt: the expiry stays unknown.
  const char* scope;
  const char* refresh_token;
};

class TokenFixtureSuccess : public ::testing::TestWithParam<SuccessCase> {};

TEST_P(TokenFixtureSuccess, ParsesTokens) {
  const SuccessCase& c = GetParam();
  auto tokens = ParseFixture(c.fixture, c.status, c.content_type);
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_TRUE(tokens->access_token.Equals(c.access_token));
  EXPECT_TRUE(tokens->refresh_token.Equals(c.refresh_token));
  EXPECT_EQ(tokens->token_type, "Bearer");
  EXPECT_EQ(tokens->obtained_at, kNow);
  if (c.expires_in) {
    EXPECT_EQ(tokens->expires_at, kNow + *c.expires_in);
  } else {
    EXPECT_FALSE(tokens->expires_at.has_value());
  }
  EXPECT_EQ(tokens->scope, c.scope);
  EXPECT_FALSE(tokens->response.contains("access_token"));
  EXPECT_FALSE(tokens->response.contains("refresh_token"));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, TokenFixtureSuccess,
    ::testing::Values(
        SuccessCase{"json_success.json", 200, "application/json", "at-json-success", seconds(3600),
                    "repo user", "rt-json-success"},
        SuccessCase{"form_success.form", 200, "application/x-www-form-urlencoded",
                    "at-form-success", std::nullopt, "repo gist", ""},
        SuccessCase{"form_labelled_text_plain.txt", 200, "text/plain; charset=utf-8",
                    "at-text-plain", seconds(5183999), kRequestedScopes, ""},
        SuccessCase{"json_labelled_text_plain.txt", 200, "text/plain", "at-json-text",
                    seconds(7200), kRequestedScopes, ""},
        SuccessCase{"expires_in_string.json", 200, "application/json", "at-string-expiry",
                    seconds(3599), kRequestedScopes, ""},
        SuccessCase{"expires_in_missing.json", 200, "application/json", "at-no-expiry",
                    std::nullopt, kRequestedScopes, "rt-no-expiry"},
        SuccessCase{"expires_alias.json", 200, "application/json", "at-expires-alias",
                    seconds(5183944), kRequestedScopes, ""},
        SuccessCase{"token_type_missing.json", 200, "application/json", "at-no-type",
                    seconds(3600), kRequestedScopes, ""},
        SuccessCase{"token_type_lowercase.json", 200, "application/json", "at-lower-type",
                    seconds(3600), kRequestedScopes, ""},
        SuccessCase{"scope_comma_separated.json", 200, "application/json", "at-comma-scope",
                    std::nullopt, "repo gist read:org", ""},
        SuccessCase{"scope_space_separated.json", 200, "application/json", "at-space-scope",
                    std::nullopt, "openid profile email", ""},
        SuccessCase{"scope_missing.json", 200, "application/json", "at-no-scope", seconds(3600),
                    kRequestedScopes, ""},
        SuccessCase{"scope_array.json", 200, "application/json", "at-array-scope", std::nullopt,
                    "files.read files.write", ""},
        SuccessCase{"slack_ok_true.json", 200, "application/json; charset=utf-8",
                    "xoxp-1111-2222-3333", std::nullopt, "identify read post", ""}),
    [](const ::testing::TestParamInfo<SuccessCase>& info) {
      std::string name = info.param.fixture;
      name = name.substr(0, name.find('.'));
      return name;
    });

struct ErrorCase {
  const char* fixture;
  int status;
  const char* content_type;
  ErrorCode code;
  const char* reason;
  TokenErrorKind kind;
  const char* message_part;  // Must appear in the message.
};

class TokenFixtureError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(TokenFixtureError, ReturnsClassifiedError) {
  const ErrorCase& c = GetParam();
  auto tokens = ParseFixture(c.fixture, c.status, c.content_type);
  ASSERT_FALSE(tokens.ok());
  const Error& error = tokens.error();
  EXPECT_EQ(error.code, c.code);
  EXPECT_EQ(error.reason, c.reason);
  EXPECT_EQ(ClassifyTokenError(error), c.kind);
  EXPECT_NE(error.message.find("provider 'provider-x'"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find(c.message_part), std::string::npos) << error.message;
  EXPECT_EQ(error.details.empty(), ReadFixture(c.fixture).empty()) << error.details;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, TokenFixtureError,
    ::testing::Values(
        ErrorCase{"error_with_http_200.json", 200, "application/json",
                  ErrorCode::kFailedPrecondition, "invalid_grant",
                  TokenErrorKind::kReloginRequired, "Token has been expired or revoked."},
        ErrorCase{"slack_ok_false.json", 200, "application/json", ErrorCode::kBadGateway,
                  "invalid_code", TokenErrorKind::kOther, "returned error 'invalid_code'"},
        ErrorCase{"slack_ok_false_without_error.json", 200, "application/json",
                  ErrorCode::kBadGateway, "unknown_error", TokenErrorKind::kOther,
                  "\"ok\": false"},
        ErrorCase{"invalid_client.json", 401, "application/json", ErrorCode::kBadGateway,
                  "invalid_client", TokenErrorKind::kProviderSettings, "client secret"},
        ErrorCase{"json_error_labelled_text_plain.txt", 400, "text/plain",
                  ErrorCode::kFailedPrecondition, "invalid_grant",
                  TokenErrorKind::kReloginRequired, "refresh token is expired"},
        ErrorCase{"consent_revoked.json", 400, "application/json",
                  ErrorCode::kFailedPrecondition, "interaction_required",
                  TokenErrorKind::kReloginRequired, "revoked consent"},
        ErrorCase{"temporarily_unavailable.json", 503, "application/json",
                  ErrorCode::kUnavailable, "temporarily_unavailable", TokenErrorKind::kTransient,
                  "retries later"},
        ErrorCase{"facebook_error_object.json", 400, "application/json", ErrorCode::kBadGateway,
                  "OAuthException", TokenErrorKind::kOther,
                  "Error validating verification code."},
        ErrorCase{"form_error.form", 200, "application/x-www-form-urlencoded",
                  ErrorCode::kBadGateway, "bad_verification_code", TokenErrorKind::kOther,
                  "The code passed is incorrect or expired."},
        ErrorCase{"html_error_page.html", 200, "text/html; charset=utf-8",
                  ErrorCode::kBadGateway, "invalid_token_response", TokenErrorKind::kOther,
                  "an HTML page"},
        ErrorCase{"bad_gateway_page.html", 502, "", ErrorCode::kUnavailable,
                  "token_endpoint_unavailable", TokenErrorKind::kTransient, "an HTML page"},
        ErrorCase{"rate_limited.txt", 429, "text/plain", ErrorCode::kUnavailable,
                  "token_endpoint_unavailable", TokenErrorKind::kTransient, "retries later"},
        ErrorCase{"empty_body.txt", 200, "application/json", ErrorCode::kBadGateway,
                  "invalid_token_response", TokenErrorKind::kOther, "an empty body"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) {
      std::string name = info.param.fixture;
      name = name.substr(0, name.find('.'));
      return name;
    });

TEST(TokenErrorDetails, RedactsEchoedSecrets) {
  auto tokens = ParseFixture("error_echoing_secrets.json", 400, "application/json");
  ASSERT_FALSE(tokens.ok());
  const std::string& details = tokens.error().details;
  EXPECT_NE(details.find("\"error\":\"invalid_request\""), std::string::npos) << details;
  EXPECT_NE(details.find("duplicate parameter"), std::string::npos) << details;
  EXPECT_EQ(details.find("rt-echoed"), std::string::npos) << details;
  EXPECT_EQ(details.find("cs-echoed"), std::string::npos) << details;
  EXPECT_NE(details.find("\"refresh_token\":\"[redacted]\""), std::string::npos) << details;
}

TEST(TokenErrorDetails, KeepsHtmlPageText) {
  auto tokens = ParseFixture("bad_gateway_page.html", 502, "text/html");
  ASSERT_FALSE(tokens.ok());
  EXPECT_NE(tokens.error().details.find("<title>502 Bad Gateway</title>"), std::string::npos)
      << tokens.error().details;
}

TEST(TokenErrorDetails, RedactsFormCode) {
  http::ClientResponse response;
  response.status = 400;
  response.body = "error=invalid_request&code=abc123&state=s1";
  auto tokens = ParseTokenResponse(response, TokenResponseOptions{"provider-x", "", kNow});
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().details, "error=invalid_request&code=[redacted]&state=s1");
}

}  // namespace
}  // namespace credgate::credentials
