#include "gateway/token_exchange.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/encoding.h"

namespace credgate::gateway {
namespace {

// A valid request for connection "github/alice"; tests change or drop one field.
FormFields ValidFields() {
  return {{"grant_type", std::string(kTokenExchangeGrantType)},
          {"subject_token", "header.payload.signature"},
          {"subject_token_type", std::string(kJwtTokenType)},
          {"resource", "github/alice"}};
}

FormFields Without(FormFields fields, std::string_view name) {
  std::erase_if(fields, [&](const auto& field) { return field.first == name; });
  return fields;
}

FormFields With(FormFields fields, std::string name, std::string value) {
  fields.emplace_back(std::move(name), std::move(value));
  return fields;
}

// Returns the OAuth error code of a rejected request, or "ok".
std::string ErrorOf(const FormFields& fields) {
  auto parsed = ParseTokenExchangeRequest(FormEncode(fields));
  if (parsed.ok()) return "ok";
  return std::string(OAuthErrorFor(parsed.error()).error);
}

TEST(TokenExchangeRequestTest, ParsesValidRequest) {
  auto parsed = ParseTokenExchangeRequest(FormEncode(ValidFields()));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->subject_token, "header.payload.signature");
  EXPECT_EQ(parsed->provider_id, "github");
  EXPECT_EQ(parsed->connection_id, "alice");
}

TEST(TokenExchangeRequestTest, AcceptsAudienceAndAccessTokenType) {
  FormFields fields = Without(ValidFields(), "resource");
  fields = Without(fields, "subject_token_type");
  fields = With(fields, "subject_token_type", std::string(kAccessTokenType));
  fields = With(fields, "audience", "/authorizationProviders/github/authorizations/alice");
  auto parsed = ParseTokenExchangeRequest(FormEncode(fields));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->provider_id, "github");
  EXPECT_EQ(parsed->connection_id, "alice");
}

TEST(TokenExchangeRequestTest, RejectsMalformedRequests) {
  struct Case {
    const char* what;
    FormFields fields;
    const char* error;
  };
  const Case cases[] = {
      {"no grant_type", Without(ValidFields(), "grant_type"), "invalid_request"},
      {"other grant_type",
       With(Without(ValidFields(), "grant_type"), "grant_type", "client_credentials"),
       "unsupported_grant_type"},
      {"no subject_token", Without(ValidFields(), "subject_token"), "invalid_request"},
      {"empty subject_token", With(Without(ValidFields(), "subject_token"), "subject_token", ""),
       "invalid_request"},
      {"no subject_token_type", Without(ValidFields(), "subject_token_type"), "invalid_request"},
      {"SAML subject_token_type",
       With(Without(ValidFields(), "subject_token_type"), "subject_token_type",
            "urn:ietf:params:oauth:token-type:saml2"),
       "invalid_request"},
      {"repeated subject_token", With(ValidFields(), "subject_token", "other"), "invalid_request"},
      {"refresh token requested",
       With(ValidFields(), "requested_token_type",
            "urn:ietf:params:oauth:token-type:refresh_token"),
       "invalid_request"},
      {"actor_token", With(ValidFields(), "actor_token", "x"), "invalid_request"},
      {"no target", Without(ValidFields(), "resource"), "invalid_request"},
      {"two connections", With(ValidFields(), "audience", "github/bob"), "invalid_target"},
      {"bad target", With(Without(ValidFields(), "resource"), "resource", "github"),
       "invalid_target"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorOf(c.fields), c.error) << c.what;
  }
}

TEST(TokenExchangeRequestTest, RejectsBadFormEncoding) {
  auto parsed = ParseTokenExchangeRequest("grant_type=%zz");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(OAuthErrorFor(parsed.error()).error, "invalid_request");
}

TEST(TokenExchangeRequestTest, IgnoresScope) {
  EXPECT_EQ(ErrorOf(With(ValidFields(), "scope", "read write")), "ok");
}

TEST(ConnectionTargetTest, ParsesEveryForm) {
  const char* targets[] = {
      "github/alice",
      "/github/alice",
      "authorizationProviders/github/authorizations/alice",
      "/authorizationProviders/github/authorizations/alice",
      "https://credgate.example.com/authorizationProviders/github/authorizations/alice?x=1",
  };
  for (const char* target : targets) {
    auto parsed = ParseConnectionTarget(target);
    ASSERT_TRUE(parsed.ok()) << target << ": " << parsed.error().message;
    EXPECT_EQ(parsed->first, "github") << target;
    EXPECT_EQ(parsed->second, "alice") << target;
  }
}

TEST(ConnectionTargetTest, RejectsOtherTargets) {
  const char* targets[] = {
      "",
      "github",
      "github/",
      "/alice",
      "github/alice/extra",
      "authorizationProviders/github",
      "authorizationProviders/github/authorizations/alice/accessPolicies/x",
      "https://credgate.example.com",
      "api://credgate",
  };
  for (const char* target : targets) {
    auto parsed = ParseConnectionTarget(target);
    ASSERT_FALSE(parsed.ok()) << target;
    EXPECT_EQ(parsed.error().reason, "invalid_target") << target;
  }
}

TEST(OAuthErrorTest, MapsIssueErrors) {
  struct Case {
    ErrorCode code;
    int status;
    const char* error;
  };
  const Case cases[] = {
      {ErrorCode::kNotFound, 400, "invalid_target"},
      {ErrorCode::kUnauthenticated, 401, "invalid_grant"},
      {ErrorCode::kPermissionDenied, 403, "access_denied"},
      {ErrorCode::kUnavailable, 503, "temporarily_unavailable"},
  };
  for (const Case& c : cases) {
    const OAuthError oauth = OAuthErrorFor(MakeError(c.code, "message"));
    EXPECT_EQ(oauth.status, c.status) << ErrorCodeName(c.code);
    EXPECT_EQ(oauth.error, c.error) << ErrorCodeName(c.code);
  }
}

TEST(OAuthErrorTest, ResponseIsNotCachedAndCleansDescription) {
  http::Response response =
      OAuthErrorResponse({403, "access_denied"}, "caller \"x\" denied\\\n", 11);
  EXPECT_EQ(response.result_int(), 403u);
  EXPECT_EQ(std::string(response[boost::beast::http::field::cache_control]), "no-store");
  auto body = boost::json::parse(response.body()).as_object();
  EXPECT_EQ(body["error"].as_string(), "access_denied");
  EXPECT_EQ(body["error_description"].as_string(), "caller  x  denied  ");
}

}  // namespace
}  // namespace credgate::gateway
