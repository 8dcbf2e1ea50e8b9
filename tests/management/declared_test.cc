#include "management/declared.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "management/persistence.h"

namespace credgate::management {
namespace {

boost::json::object Body(std::string_view json) {
  auto parsed = ParseJsonBody(json);
  EXPECT_TRUE(parsed.ok()) << json;
  return parsed.ok() ? *parsed : boost::json::object();
}

std::string ProviderJson(std::string_view display_name, std::string_view secret_member) {
  return std::string(R"({"properties":{"displayName":")") + std::string(display_name) +
         R"(","identityProvider":"oauth2","oauth2":{"grantTypes":{"authorizationCode":{
         "clientId":"id1",)" +
         std::string(secret_member) +
         R"("scopes":"repo","authorizationUrl":"https://github.com/login/oauth/authorize",
         "tokenUrl":"https://github.com/login/oauth/access_token"}}}}})";
}

constexpr std::string_view kApiJson =
    R"({"properties":{"displayName":"Echo","path":"echo","serviceUrl":"https://echo.example"}})";
constexpr std::string_view kPolicyJson =
    R"({"properties":{"format":"rawxml","value":"<policies><inbound/></policies>"}})";

// A snapshot with provider "github" (secret "s3cret") and API "echo" with policy kPolicyJson,
// as a start-up load would leave it.
class DeclaredTest : public testing::Test {
 protected:
  void SetUp() override {
    auto provider =
        ParseProvider("github", Body(ProviderJson("GitHub", R"("clientSecret":"s3cret",)")));
    ASSERT_TRUE(provider.ok()) << provider.error().message;
    auto entry = std::make_shared<runtime::ProviderEntry>();
    Secret secret = std::move(provider->client_secret);
    entry->resource = *provider;
    entry->config = ToProviderConfig(entry->resource, secret).value();
    snapshot_.providers["github"] = entry;

    auto api = ParseApi("echo", Body(kApiJson));
    ASSERT_TRUE(api.ok()) << api.error().message;
    auto policy = ParsePolicy(Body(kPolicyJson));
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    auto api_entry = std::make_shared<runtime::ApiEntry>();
    api_entry->resource = *api;
    api_entry->policy = *policy;
    snapshot_.apis["echo"] = api_entry;
  }

  bool Matches(std::string_view path, std::string_view body) {
    auto parsed = ParseResourcePath(path);
    EXPECT_TRUE(parsed.ok()) << path;
    return parsed.ok() && MatchesStored(snapshot_, *parsed, Body(body));
  }

  runtime::Snapshot snapshot_;
};

TEST_F(DeclaredTest, ProviderWithSameBodyMatches) {
  EXPECT_TRUE(Matches("/authorizationProviders/github",
                      ProviderJson("GitHub", R"("clientSecret":"s3cret",)")));
}

TEST_F(DeclaredTest, ProviderWithoutSecretMatches) {
  EXPECT_TRUE(Matches("/authorizationProviders/github", ProviderJson("GitHub", "")));
}

TEST_F(DeclaredTest, ProviderWithOtherSecretDiffers) {
  EXPECT_FALSE(Matches("/authorizationProviders/github",
                       ProviderJson("GitHub", R"("clientSecret":"rotated",)")));
}

TEST_F(DeclaredTest, ProviderWithOtherFieldDiffers) {
  EXPECT_FALSE(Matches("/authorizationProviders/github",
                       ProviderJson("GitHub v2", R"("clientSecret":"s3cret",)")));
}

TEST_F(DeclaredTest, MissingResourceDiffers) {
  EXPECT_FALSE(Matches("/authorizationProviders/gitlab",
                       ProviderJson("GitHub", R"("clientSecret":"s3cret",)")));
  EXPECT_FALSE(Matches("/apis/other", kApiJson));
  EXPECT_FALSE(Matches("/apis/echo/operations/get", R"({"properties":{"method":"GET",
                                                        "urlTemplate":"/"}})"));
  EXPECT_FALSE(Matches("/policies/policy", kPolicyJson));
}

TEST_F(DeclaredTest, InvalidBodyDiffers) {
  EXPECT_FALSE(Matches("/apis/echo", R"({"properties":{"path":"echo"}})"));
}

TEST_F(DeclaredTest, ApiAndPolicyCompareContent) {
  EXPECT_TRUE(Matches("/apis/echo", kApiJson));
  EXPECT_FALSE(Matches("/apis/echo", R"({"properties":{"displayName":"Echo v2","path":"echo",
                                         "serviceUrl":"https://echo.example"}})"));
  EXPECT_TRUE(Matches("/apis/echo/policies/policy", kPolicyJson));
  EXPECT_FALSE(Matches("/apis/echo/policies/policy",
                       R"({"properties":{"value":"<policies><outbound/></policies>"}})"));
}

}  // namespace
}  // namespace credgate::management
