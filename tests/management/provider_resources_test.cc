// Providers and connections of catalogue identity providers, and client credentials connections.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "credentials/catalogue.h"
#include "management/persistence.h"
#include "management/resources.h"

namespace credgate::management {
namespace {

boost::json::object Body(std::string_view json) {
  auto parsed = ParseJsonBody(json);
  EXPECT_TRUE(parsed.ok()) << json;
  return parsed.ok() ? *parsed : boost::json::object();
}

Result<ProviderResource> Provider(std::string_view identity_provider, std::string_view grant,
                                  std::string_view parameters) {
  return ParseProvider("p", Body(std::string(R"({"properties":{"identityProvider":")") +
                                 std::string(identity_provider) +
                                 R"(","oauth2":{"grantTypes":{")" + std::string(grant) +
                                 R"(":{)" + std::string(parameters) + "}}}}}"));
}

TEST(CatalogueProvider, AppliesEntryDefaults) {
  auto provider = Provider("google", "authorizationCode",
                           R"("clientId":"id.apps.googleusercontent.com","clientSecret":"s3cret")");
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  EXPECT_EQ(provider->grant, credentials::GrantKind::kAuthorizationCode);
  EXPECT_EQ(provider->Parameter("scopes"), "openid email");
  EXPECT_TRUE(provider->client_secret.Equals("s3cret"));
  EXPECT_FALSE(provider->parameters.contains("clientSecret"));
}

TEST(CatalogueProvider, RenderShowsParametersWithoutSecret) {
  auto provider = Provider("aad", "authorizationCode",
                           R"("clientId":"app","clientSecret":"s3cret",
                              "resourceUri":"https://graph.microsoft.com")");
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  const std::string rendered = boost::json::serialize(RenderProvider(*provider, "cb"));
  EXPECT_EQ(rendered.find("s3cret"), std::string::npos);
  EXPECT_EQ(rendered.find("clientSecret"), std::string::npos);
  EXPECT_NE(rendered.find(R"("tenantId":"common")"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find(R"("loginUri":"https://login.windows.net")"), std::string::npos);

  auto again = ParseProvider("p", RenderProvider(*provider, "cb"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->parameters, provider->parameters);
}

TEST(CatalogueProvider, RequiredParameterNamesField) {
  auto provider = Provider("aad", "authorizationCode", R"("clientId":"app")");
  ASSERT_FALSE(provider.ok());
  EXPECT_NE(provider.error().message.find(
                "'properties.oauth2.grantTypes.authorizationCode.resourceUri' is required"),
            std::string::npos)
      << provider.error().message;
}

TEST(CatalogueProvider, UnknownIdentityProviderListsIds) {
  auto provider = Provider("saml", "authorizationCode", R"("clientId":"app")");
  ASSERT_FALSE(provider.ok());
  EXPECT_NE(provider.error().message.find("'saml'"), std::string::npos);
  EXPECT_NE(provider.error().message.find("google"), std::string::npos);
}

TEST(CatalogueProvider, GrantTheEntryLacksIsRejected) {
  auto provider = Provider("google", "clientCredentials", R"("clientId":"app")");
  ASSERT_FALSE(provider.ok());
  EXPECT_NE(provider.error().message.find("does not support the clientCredentials grant"),
            std::string::npos)
      << provider.error().message;
}

TEST(CatalogueProvider, BothGrantsAreRejected) {
  auto provider = ParseProvider("p", Body(R"({"properties":{"identityProvider":"oauth2",
      "oauth2":{"grantTypes":{"authorizationCode":{"clientId":"a"},
      "clientCredentials":{"clientId":"a"}}}}})"));
  ASSERT_FALSE(provider.ok());
  EXPECT_NE(provider.error().message.find("both"), std::string::npos);
}

TEST(CatalogueProvider, ResolvesTemplatedUrls) {
  auto provider = Provider("servicenow", "authorizationCode",
                           R"("clientId":"app","clientSecret":"s","instanceName":"acme")");
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  auto config = ToProviderConfig(*provider, Secret("s"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->authorization_url, "https://acme.service-now.com/oauth_auth.do");
  EXPECT_EQ(config->token_url, "https://acme.service-now.com/oauth_token.do");
  EXPECT_EQ(config->client_auth_method, credentials::ClientAuthMethod::kClientSecretPost);
}

TEST(CatalogueProvider, HostnameStartingWithAddressIsRejected) {
  auto provider = Provider("okta", "authorizationCode",
                           R"("clientId":"app","clientSecret":"s","domain":"127.0.0.1.example.com")");
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  auto config = ToProviderConfig(*provider, Secret("s"));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("authorizationUrl"), std::string::npos)
      << config.error().message;
}

TEST(ClientCredentialsConnection, ParsesWriteOnlyParameters) {
  auto connection = ParseConnection("p", "daemon", Body(R"({"properties":{
      "authorizationType":"OAuth2","oauth2grantType":"ClientCredentials",
      "parameters":{"clientId":"own","clientSecret":"own-secret"}}})"));
  ASSERT_TRUE(connection.ok()) << connection.error().message;
  EXPECT_EQ(connection->grant_type, GrantType::kClientCredentials);
  EXPECT_TRUE(connection->parameters_given);
  EXPECT_EQ(connection->parameters->Get("clientId"), "own");
  EXPECT_TRUE(connection->parameters->client_secret.Equals("own-secret"));

  const std::string rendered =
      boost::json::serialize(RenderConnection(*connection, {true, "", ""}));
  EXPECT_EQ(rendered.find("own-secret"), std::string::npos);
  EXPECT_EQ(rendered.find("parameters"), std::string::npos);
  EXPECT_NE(rendered.find(R"("oauth2grantType":"ClientCredentials")"), std::string::npos);
}

TEST(ClientCredentialsConnection, AuthorizationCodeTakesNoParameters) {
  auto connection = ParseConnection("p", "alice", Body(R"({"properties":{
      "oauth2grantType":"AuthorizationCode","parameters":{"clientId":"x"}}})"));
  ASSERT_FALSE(connection.ok());
  EXPECT_NE(connection.error().message.find("properties.parameters"), std::string::npos);
}

class ClientCredentialsConfigTest : public testing::Test {
 protected:
  void Register(std::string_view parameters, std::string_view secret) {
    auto provider = Provider("aad", "clientCredentials", parameters);
    ASSERT_TRUE(provider.ok()) << provider.error().message;
    entry_.resource = *provider;
    auto config = ToProviderConfig(entry_.resource, Secret(std::string(secret)));
    ASSERT_TRUE(config.ok()) << config.error().message;
    entry_.config = *config;
  }

  Result<credentials::ProviderConfig> ForConnection(std::string_view body) {
    auto connection = ParseConnection("p", "daemon", Body(body));
    EXPECT_TRUE(connection.ok());
    return ClientCredentialsConfig(entry_, *connection);
  }

  runtime::ProviderEntry entry_;
};

TEST_F(ClientCredentialsConfigTest, ConnectionSuppliesClient) {
  Register(R"("resourceUri":"https://graph.microsoft.com","tenantId":"contoso.com")", "");
  auto config = ForConnection(R"({"properties":{"oauth2grantType":"ClientCredentials",
      "parameters":{"clientId":"daemon-app","clientSecret":"daemon-secret"}}})");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->grant, credentials::GrantKind::kClientCredentials);
  EXPECT_EQ(config->client_id, "daemon-app");
  EXPECT_TRUE(config->client_secret.Equals("daemon-secret"));
  EXPECT_EQ(config->token_url, "https://login.windows.net/contoso.com/oauth2/token");
  ASSERT_EQ(config->token_parameters.size(), 1u);
  EXPECT_EQ(config->token_parameters[0],
            (std::pair<std::string, std::string>("resource", "https://graph.microsoft.com")));
}

TEST_F(ClientCredentialsConfigTest, MissingClientNamesParameter) {
  Register(R"("resourceUri":"https://graph.microsoft.com","tenantId":"contoso.com")", "");
  auto config = ForConnection(R"({"properties":{"oauth2grantType":"ClientCredentials"}})");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("clientId"), std::string::npos)
      << config.error().message;
}

TEST_F(ClientCredentialsConfigTest, ProviderClientIsDefault) {
  Register(R"("resourceUri":"https://graph.microsoft.com","tenantId":"contoso.com",
              "clientId":"shared-app")",
           "shared-secret");
  auto config = ForConnection(R"({"properties":{"oauth2grantType":"ClientCredentials"}})");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->client_id, "shared-app");
  EXPECT_TRUE(config->client_secret.Equals("shared-secret"));
}

TEST(IdentityProviderResource, RendersCatalogueEntry) {
  const credentials::CatalogueEntry* entry = credentials::BuiltinCatalogue().Find("servicenow");
  ASSERT_NE(entry, nullptr);
  boost::json::object rendered = RenderIdentityProvider(*entry);
  EXPECT_EQ(rendered.at("id"), "/identityProviders/servicenow");
  EXPECT_EQ(rendered.at("name"), "servicenow");
  const auto& properties = rendered.at("properties").as_object();
  EXPECT_EQ(properties.at("displayName"), "ServiceNow");
  EXPECT_TRUE(properties.at("grantTypes").as_object().contains("authorizationCode"));
}

}  // namespace
}  // namespace credgate::management
