#include "management/resources.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace credgate::management {
namespace {

boost::json::object Body(std::string_view json) {
  auto parsed = ParseJsonBody(json);
  EXPECT_TRUE(parsed.ok()) << json;
  return parsed.ok() ? *parsed : boost::json::object();
}

constexpr std::string_view kProviderBody = R"({"properties":{"displayName":"GitHub",
  "identityProvider":"oauth2","oauth2":{"redirectUrl":"ignored","grantTypes":{
  "authorizationCode":{"clientId":"id1","clientSecret":"s3cret","scopes":"repo user",
  "authorizationUrl":"https://github.com/login/oauth/authorize",
  "tokenUrl":"https://github.com/login/oauth/access_token",
  "refreshUrl":"https://github.com/login/oauth/access_token"}}}}})";

TEST(ProviderResource, ParsesArmBody) {
  auto provider = ParseProvider("github", Body(kProviderBody));
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  EXPECT_EQ(provider->display_name, "GitHub");
  EXPECT_EQ(provider->Parameter("clientId"), "id1");
  EXPECT_TRUE(provider->client_secret.Equals("s3cret"));
  EXPECT_EQ(provider->Parameter("scopes"), "repo user");
}

TEST(ProviderResource, RenderOmitsClientSecret) {
  auto provider = ParseProvider("github", Body(kProviderBody));
  ASSERT_TRUE(provider.ok());
  std::string rendered =
      boost::json::serialize(RenderProvider(*provider, "https://gw.example/.credgate/callback"));
  EXPECT_EQ(rendered.find("s3cret"), std::string::npos);
  EXPECT_EQ(rendered.find("clientSecret"), std::string::npos);
  EXPECT_NE(rendered.find("\"redirectUrl\":\"https://gw.example/.credgate/callback\""),
            std::string::npos);
}

TEST(ProviderResource, RenderedBodyParsesAgain) {
  auto provider = ParseProvider("github", Body(kProviderBody));
  ASSERT_TRUE(provider.ok());
  auto again = ParseProvider("github", RenderProvider(*provider, "x"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->Parameter("tokenUrl"), provider->Parameter("tokenUrl"));
}

struct InvalidCase {
  const char* body;
  const char* expected_fragment;
};

class InvalidProviderTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidProviderTest, NamesTheField) {
  auto provider = ParseProvider("p", Body(GetParam().body));
  ASSERT_FALSE(provider.ok());
  EXPECT_EQ(provider.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(provider.error().message.find(GetParam().expected_fragment), std::string::npos)
      << provider.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, InvalidProviderTest,
    testing::Values(
        InvalidCase{R"({})", "'properties' is required"},
        InvalidCase{R"({"properties":{"identityProvider":"saml"}})", "'saml'"},
        InvalidCase{R"({"properties":{"identityProvider":"oauth2"}})", "authorizationCode"},
        InvalidCase{R"({"properties":{"identityProvider":"oauth2","oauth2":{"grantTypes":{
          "authorizationCode":{"clientId":"a","authorizationUrl":"http://evil.example/a",
          "tokenUrl":"https://t.example/t"}}}}})",
                    "must use https"},
        InvalidCase{R"({"properties":{"identityProvider":"oauth2","oauth2":{"grantTypes":{
          "authorizationCode":{"clientId":"a","authorizationUrl":"https://a.example/a",
          "tokenUrl":"https://t.example/t","tokenURL":"x"}}}}})",
                    "unknown parameter"},
        InvalidCase{R"({"properties":{"identityProvider":"oauth2","oauth2":{"grantTypes":{
          "authorizationCode":{"authorizationUrl":"https://a.example/a",
          "tokenUrl":"https://t.example/t"}}}}})",
                    "clientId' is required"}));

TEST(ResourceName, RejectsInvalidNames) {
  EXPECT_TRUE(ValidateResourceName("github-1.prod_x", "provider").ok());
  EXPECT_FALSE(ValidateResourceName("", "provider").ok());
  EXPECT_FALSE(ValidateResourceName("-x", "provider").ok());
  EXPECT_FALSE(ValidateResourceName("a/b", "provider").ok());
  EXPECT_FALSE(ValidateResourceName(std::string(81, 'a'), "provider").ok());
}

TEST(AccessPolicyResource, RequiresTenantAndObject) {
  auto ok = ParseAccessPolicy("p", "a", "x",
                              Body(R"({"properties":{"tenantId":"t","objectId":"o",
                                     "appIds":["app1"]}})"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->app_ids.size(), 1u);
  EXPECT_FALSE(ParseAccessPolicy("p", "a", "x", Body(R"({"properties":{"tenantId":"t"}})")).ok());
}

TEST(ConnectionResource, DefaultsToAuthorizationCode) {
  auto connection = ParseConnection("p", "alice", Body(R"({"properties":{}})"));
  ASSERT_TRUE(connection.ok());
  EXPECT_EQ(connection->grant_type, GrantType::kAuthorizationCode);
  auto rendered = boost::json::serialize(RenderConnection(*connection, {false, "Unauthenticated",
                                                                        "sign in"}));
  EXPECT_NE(rendered.find("\"status\":\"Error\""), std::string::npos);
  EXPECT_NE(rendered.find("\"code\":\"Unauthenticated\""), std::string::npos);
}

TEST(ApiResource, NormalisesPathAndServiceUrl) {
  auto api = ParseApi("echo", Body(R"({"properties":{"path":"/echo/v1/",
                                      "serviceUrl":"http://127.0.0.1:9000/base/"}})"));
  ASSERT_TRUE(api.ok()) << api.error().message;
  EXPECT_EQ(api->path, "echo/v1");
  EXPECT_EQ(api->service_url, "http://127.0.0.1:9000/base");
  EXPECT_FALSE(ParseApi("x", Body(R"({"properties":{"path":".credgate",
                                     "serviceUrl":"http://a"}})"))
                   .ok());
}

TEST(OperationResource, ValidatesMethodAndTemplate) {
  EXPECT_TRUE(ParseOperation("a", "o", Body(R"({"properties":{"method":"get",
                                            "urlTemplate":"/users/{id}"}})"))
                  .ok());
  EXPECT_FALSE(ParseOperation("a", "o", Body(R"({"properties":{"method":"FETCH",
                                             "urlTemplate":"/x"}})"))
                   .ok());
  EXPECT_FALSE(ParseOperation("a", "o", Body(R"({"properties":{"method":"GET",
                                             "urlTemplate":"x"}})"))
                   .ok());
}

TEST(OperationResource, ResponseExamples) {
  auto operation = ParseOperation("a", "o", Body(R"({"properties":{"method":"GET",
      "urlTemplate":"/orders","responses":[
        {"statusCode":200,"representations":[
          {"contentType":"application/json",
           "examples":{"first":{"value":{"id":1}},"default":{"value":{"id":2}}}},
          {"contentType":"text/plain","examples":{"only":{"value":"plain text"}}},
          {"contentType":"application/xml","sample":"<order/>"}]},
        {"statusCode":204}]}})"));
  ASSERT_TRUE(operation.ok()) << operation.error().message;
  ASSERT_NE(operation->response_examples, nullptr);
  const policy::ResponseExamples& examples = *operation->response_examples;
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(examples[0].body, R"({"id":2})");
  EXPECT_EQ(examples[1].body, "plain text");
  EXPECT_EQ(examples[2].body, "<order/>");
  EXPECT_EQ(RenderOperation(*operation)["properties"].as_object()["responses"].as_array().size(),
            2u);
}

TEST(OperationResource, InvalidResponsesNamed) {
  struct Case {
    const char* responses;
    const char* expected;
  };
  for (const Case& c : {
           Case{R"({"statusCode":"200"})", "properties.responses[0].statusCode"},
           Case{R"({"statusCode":99})", "properties.responses[0].statusCode"},
           Case{R"({"statusCode":200,"representations":[{}]})",
                "properties.responses[0].representations[0].contentType"},
           Case{R"({"statusCode":200,"representations":[{"contentType":"a/b","examples":[]}]})",
                "properties.responses[0].representations[0].examples"},
       }) {
    auto operation = ParseOperation(
        "a", "o",
        Body(std::string(R"({"properties":{"method":"GET","urlTemplate":"/x","responses":[)") +
             c.responses + "]}}"));
    ASSERT_FALSE(operation.ok()) << c.responses;
    EXPECT_NE(operation.error().message.find(c.expected), std::string::npos)
        << operation.error().message;
  }
}

TEST(JsonBody, RejectsMalformedJson) {
  EXPECT_FALSE(ParseJsonBody("{").ok());
  EXPECT_FALSE(ParseJsonBody("[]").ok());
  EXPECT_FALSE(ParseJsonBody(std::string(100, '[') + std::string(100, ']')).ok());
}

TEST(JsonBody, ErrorNamesOffset) {
  auto trailing_comma = ParseJsonBody(R"({"a":1,})");
  ASSERT_FALSE(trailing_comma.ok());
  EXPECT_NE(trailing_comma.error().message.find("at offset 7"), std::string::npos)
      << trailing_comma.error().message;
  auto truncated = ParseJsonBody(R"({"a":)");
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("at offset 5"), std::string::npos)
      << truncated.error().message;
  auto trailing_text = ParseJsonBody(R"({} x)");
  ASSERT_FALSE(trailing_text.ok());
  EXPECT_NE(trailing_text.error().message.find("at offset 3"), std::string::npos)
      << trailing_text.error().message;
}

TEST(JsonBody, RejectsEmptyBody) {
  for (std::string_view body : {"", " \r\n"}) {
    auto parsed = ParseJsonBody(body);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find("empty"), std::string::npos) << parsed.error().message;
  }
}

struct EndpointCase {
  const char* url;
  bool accepted;
};

class IssuerUrlTest : public testing::TestWithParam<EndpointCase> {};

TEST_P(IssuerUrlTest, AcceptsHttpOnlyForLoopback) {
  std::string body = std::string(R"({"properties":{"issuer":")") + GetParam().url +
                     R"(","audiences":["api://credgate"]}})";
  auto issuer = ParseTrustedIssuer("corp", Body(body));
  EXPECT_EQ(issuer.ok(), GetParam().accepted)
      << GetParam().url << ": " << (issuer.ok() ? "accepted" : issuer.error().message);
}

INSTANTIATE_TEST_SUITE_P(
    Urls, IssuerUrlTest,
    testing::Values(EndpointCase{"https://login.example.com/t", true},
                    EndpointCase{"http://127.0.0.1:4100/t", true},
                    EndpointCase{"http://127.0.0.2/t", true},
                    EndpointCase{"http://LocalHost:4100/t", true},
                    EndpointCase{"http://[::1]:4100/t", true},
                    EndpointCase{"http://login.example.com/t", false},
                    EndpointCase{"http://127.example.com/t", false},
                    EndpointCase{"http://localhost.example.com/t", false},
                    // Boost.URL 1.81 reads this host as 127.0.0.1 and ".example.com/t" as the
                    // path.
                    EndpointCase{"http://127.0.0.1.example.com/t", false},
                    EndpointCase{"https://10.0.0.1.example.com/t", false}));

TEST(ApiResource, RejectsHostStartingWithIpv4Address) {
  auto api = ParseApi("x", Body(R"({"properties":{"path":"x",
                                   "serviceUrl":"https://10.1.2.3.example.com/base"}})"));
  ASSERT_FALSE(api.ok());
  EXPECT_NE(api.error().message.find("properties.serviceUrl"), std::string::npos)
      << api.error().message;
}

}  // namespace
}  // namespace credgate::management
