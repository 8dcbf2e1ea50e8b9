#include "credentials/token_response.h"

#include <gtest/gtest.h>

namespace credgate::credentials {
namespace {

const TimePoint kNow = FromUnixSeconds(1'700'000'000);

Result<TokenSet> Parse(int status, std::string body,
                       std::string content_type = "application/json") {
  http::ClientResponse response;
  response.status = status;
  response.body = std::move(body);
  if (!content_type.empty()) response.headers.emplace_back("content-type", content_type);
  return ParseTokenResponse(response, "repo user", kNow, "github");
}

TEST(TokenResponse, ParsesJson) {
  auto tokens = Parse(200, R"({"access_token":"at","refresh_token":"rt","token_type":"Bearer",
                               "expires_in":3600,"scope":"repo","ext":"x","id_token":"it"})");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_TRUE(tokens->access_token.Equals("at"));
  EXPECT_TRUE(tokens->refresh_token.Equals("rt"));
  EXPECT_EQ(tokens->token_type, "Bearer");
  EXPECT_EQ(tokens->expires_at, kNow + std::chrono::seconds(3600));
  EXPECT_EQ(tokens->obtained_at, kNow);
  EXPECT_EQ(tokens->scope, "repo");
  EXPECT_EQ(tokens->response.at("ext").as_string(), "x");
  EXPECT_FALSE(tokens->response.contains("access_token"));
  EXPECT_FALSE(tokens->response.contains("refresh_token"));
  EXPECT_FALSE(tokens->response.contains("id_token"));
}

TEST(TokenResponse, ParsesForm) {
  auto tokens = Parse(200, "access_token=a%2Bb&token_type=bearer&scope=repo%2Cgist",
                      "application/x-www-form-urlencoded");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_TRUE(tokens->access_token.Equals("a+b"));
  EXPECT_EQ(tokens->scope, "repo gist");
  EXPECT_FALSE(tokens->expires_at.has_value());
}

TEST(TokenResponse, SniffsJsonWithoutContentType) {
  auto tokens = Parse(200, R"( {"access_token":"at"})", "");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_TRUE(tokens->access_token.Equals("at"));
}

TEST(TokenResponse, DefaultsMissingFields) {
  auto tokens = Parse(200, R"({"access_token":"at"})");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_EQ(tokens->token_type, "Bearer");
  EXPECT_EQ(tokens->scope, "repo user");
  EXPECT_TRUE(tokens->refresh_token.empty());
  EXPECT_FALSE(tokens->expires_at.has_value());
}

TEST(TokenResponse, ExpiresInForms) {
  struct Case {
    std::string expires_in;
    std::optional<int> seconds;  // nullopt: parsing fails.
  };
  const Case cases[] = {
      {"3600", 3600},
      {"\"3600\"", 3600},
      {"59.9", 59},
      {"0", 0},
      {"-1", std::nullopt},
      {"\"soon\"", std::nullopt},
      {"\"12x\"", std::nullopt},
      {"true", std::nullopt},
  };
  for (const Case& c : cases) {
    auto tokens = Parse(200, R"({"access_token":"at","expires_in":)" + c.expires_in + "}");
    ASSERT_EQ(tokens.ok(), c.seconds.has_value()) << c.expires_in;
    if (c.seconds) {
      EXPECT_EQ(tokens->expires_at, kNow + std::chrono::seconds(*c.seconds)) << c.expires_in;
    } else {
      EXPECT_EQ(tokens.error().code, ErrorCode::kBadGateway) << c.expires_in;
    }
  }
}

TEST(TokenResponse, RejectsNonBearerType) {
  auto tokens = Parse(200, R"({"access_token":"at","token_type":"mac"})");
  ASSERT_FALSE(tokens.ok());
  EXPECT_NE(tokens.error().message.find("'mac'"), std::string::npos);
}

// Bodies that must never become a TokenSet.
struct RejectCase {
  const char* name;
  int status;
  std::string body;
  std::string content_type;
  ErrorCode code;
  std::string reason;
};

class TokenResponseRejects : public ::testing::TestWithParam<RejectCase> {};

TEST_P(TokenResponseRejects, ReturnsError) {
  const RejectCase& c = GetParam();
  auto tokens = Parse(c.status, c.body, c.content_type);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().code, c.code);
  EXPECT_EQ(tokens.error().reason, c.reason);
  EXPECT_NE(tokens.error().message.find("provider 'github'"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, TokenResponseRejects,
    ::testing::Values(
        RejectCase{"Ok200WithError", 200,
                   R"({"error":"invalid_grant","error_description":"bad code"})",
                   "application/json", ErrorCode::kFailedPrecondition, "invalid_grant"},
        RejectCase{"FormError", 200, "error=bad_verification_code&error_description=x",
                   "application/x-www-form-urlencoded", ErrorCode::kBadGateway,
                   "bad_verification_code"},
        RejectCase{"InvalidClient", 401, R"({"error":"invalid_client"})", "application/json",
                   ErrorCode::kBadGateway, "invalid_client"},
        RejectCase{"TemporarilyUnavailable", 400, R"({"error":"temporarily_unavailable"})",
                   "application/json", ErrorCode::kUnavailable, "temporarily_unavailable"},
        RejectCase{"HtmlPage", 200, "<html><body>Sign in</body></html>", "text/html",
                   ErrorCode::kBadGateway, "invalid_token_response"},
        RejectCase{"HtmlWithoutContentType", 200, "<!DOCTYPE html><html></html>", "",
                   ErrorCode::kBadGateway, "invalid_token_response"},
        RejectCase{"InvalidJson", 200, R"({"access_token":)", "application/json",
                   ErrorCode::kBadGateway, "invalid_token_response"},
        RejectCase{"JsonArray", 200, R"(["access_token"])", "application/json",
                   ErrorCode::kBadGateway, "invalid_token_response"},
        RejectCase{"MissingAccessToken", 200, R"({"token_type":"Bearer"})", "application/json",
                   ErrorCode::kBadGateway, "invalid_token_response"},
        RejectCase{"EmptyAccessToken", 200, R"({"access_token":""})", "application/json",
                   ErrorCode::kBadGateway, "invalid_token_response"},
        RejectCase{"PlainText", 200, "hello world", "text/plain", ErrorCode::kBadGateway,
                   "invalid_token_response"},
        RejectCase{"ServiceUnavailable", 503, "busy", "text/plain", ErrorCode::kUnavailable,
                   "token_endpoint_unavailable"},
        RejectCase{"TooManyRequests", 429, "{}", "application/json", ErrorCode::kUnavailable,
                   "token_endpoint_unavailable"},
        RejectCase{"NotFoundWithoutError", 404, R"({"access_token":"at"})", "application/json",
                   ErrorCode::kBadGateway, "invalid_token_response"}),
    [](const ::testing::TestParamInfo<RejectCase>& info) { return info.param.name; });

TEST(TokenResponse, RedactsTokenLikeDescription) {
  auto tokens = Parse(400, R"({"error":"invalid_grant","error_description":
      "refresh token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc is revoked"})");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().message.find("eyJ"), std::string::npos);
  EXPECT_NE(tokens.error().message.find("refresh token [redacted] is revoked"), std::string::npos);
}

TEST(RedactDescription, KeepsShortWordsAndStripsControls) {
  EXPECT_EQ(RedactDescription("code expired\nat 12:00"), "code expired at 12:00");
  EXPECT_EQ(RedactDescription(std::string(400, 'a')).size(), std::string("[redacted]").size());
}

TEST(SanitizeErrorCode, KeepsRfcCharacters) {
  EXPECT_EQ(SanitizeErrorCode("access_denied"), "access_denied");
  EXPECT_EQ(SanitizeErrorCode("temporarily_unavailable"), "temporarily_unavailable");
}

TEST(SanitizeErrorCode, DropsControlsQuotesAndNonAscii) {
  EXPECT_EQ(SanitizeErrorCode("access_denied\n2026-01-01 info forged"),
            "access_denied2026-01-01 info forged");
  EXPECT_EQ(SanitizeErrorCode("a\"b\\c\r\x7f\xc3\xa9"), "abc");
}

TEST(SanitizeErrorCode, KeepsFirst64Characters) {
  EXPECT_EQ(SanitizeErrorCode(std::string(100, 'e')), std::string(64, 'e'));
}

TEST(ClassifyTokenError, Kinds) {
  EXPECT_EQ(ClassifyTokenError(MakeError(ErrorCode::kFailedPrecondition, "", "invalid_grant")),
            TokenErrorKind::kReloginRequired);
  EXPECT_EQ(ClassifyTokenError(MakeError(ErrorCode::kBadGateway, "", "invalid_client")),
            TokenErrorKind::kProviderSettings);
  EXPECT_EQ(ClassifyTokenError(MakeError(ErrorCode::kDeadlineExceeded, "timed out")),
            TokenErrorKind::kTransient);
  EXPECT_EQ(ClassifyTokenError(MakeError(ErrorCode::kUnavailable, "", "server_error")),
            TokenErrorKind::kTransient);
  EXPECT_EQ(ClassifyTokenError(MakeError(ErrorCode::kBadGateway, "", "invalid_scope")),
            TokenErrorKind::kOther);
  EXPECT_EQ(ClassifyTokenError(MakeError(ErrorCode::kBadGateway, "", "consent_required")),
            TokenErrorKind::kReloginRequired);
  EXPECT_EQ(ClassifyTokenError(MakeError(ErrorCode::kBadGateway, "", "bad_client_secret")),
            TokenErrorKind::kProviderSettings);
}

TEST(KindOfErrorCode, Table) {
  const std::pair<const char*, TokenErrorKind> cases[] = {
      {"invalid_grant", TokenErrorKind::kReloginRequired},
      {"interaction_required", TokenErrorKind::kReloginRequired},
      {"login_required", TokenErrorKind::kReloginRequired},
      {"consent_required", TokenErrorKind::kReloginRequired},
      {"invalid_client", TokenErrorKind::kProviderSettings},
      {"unauthorized_client", TokenErrorKind::kProviderSettings},
      {"unsupported_grant_type", TokenErrorKind::kProviderSettings},
      {"invalid_client_id", TokenErrorKind::kProviderSettings},
      {"temporarily_unavailable", TokenErrorKind::kTransient},
      {"server_error", TokenErrorKind::kTransient},
      {"invalid_request", TokenErrorKind::kOther},
      {"INVALID_GRANT", TokenErrorKind::kOther},
      {"", TokenErrorKind::kOther},
  };
  for (const auto& [code, kind] : cases) EXPECT_EQ(KindOfErrorCode(code), kind) << code;
}

TEST(RedactResponseBody, LimitsLength) {
  EXPECT_EQ(RedactResponseBody(std::string(600, 'x') + " " + std::string(600, 'y'), false),
            "[redacted]");
  EXPECT_EQ(RedactResponseBody("<p>short words only</p>", false), "<p>short words only</p>");
}

TEST(RedactResponseBody, RedactsNestedJsonSecrets) {
  EXPECT_EQ(RedactResponseBody(R"({"authed_user":{"access_token":"x","id":"U1"}})", true),
            R"({"authed_user":{"access_token":"[redacted]","id":"U1"}})");
  EXPECT_EQ(RedactResponseBody(R"({"token_type":"bearer","id_token":"y"})", true),
            R"({"token_type":"bearer","id_token":"[redacted]"})");
}

}  // namespace
}  // namespace credgate::credentials
