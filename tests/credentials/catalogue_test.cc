#include "credentials/catalogue.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "credentials/provider_resolution.h"

namespace credgate::credentials {
namespace {

// The identity provider ids users know from API Management, and the others the catalogue ships.
constexpr std::string_view kShippedIds[] = {
    "aad",       "oauth2",  "oauth2pkce", "google",    "github",         "servicenow",
    "dropbox",   "linkedin", "spotify",   "stripe",    "zendesk",        "salesforce",
    "aadv2",     "slack",   "atlassian",  "box",       "docusign",       "xero",
    "zoho",      "okta",    "auth0",      "keycloak",  "gitlab",         "hubspot",
    "notion",    "quickbooks", "microsoftgraph"};

TEST(BuiltinCatalogue, LoadsEveryShippedEntry) {
  const Result<Catalogue>& catalogue = LoadBuiltinCatalogue();
  ASSERT_TRUE(catalogue.ok()) << catalogue.error().message;
  for (std::string_view id : kShippedIds) {
    EXPECT_NE(catalogue->Find(id), nullptr) << id;
  }
  EXPECT_EQ(catalogue->entries().size(), std::size(kShippedIds));
}

TEST(BuiltinCatalogue, EntriesDocumentTheirSource) {
  for (const auto& [id, entry] : BuiltinCatalogue().entries()) {
    EXPECT_TRUE(entry.documentation.starts_with("https://")) << id;
    EXPECT_EQ(entry.file, id + ".json");
    EXPECT_FALSE(entry.display_name.empty()) << id;
  }
}

// Every grant of every entry resolves with sample values for its required parameters.
TEST(BuiltinCatalogue, EveryGrantResolves) {
  for (const auto& [id, entry] : BuiltinCatalogue().entries()) {
    for (GrantKind kind : {GrantKind::kAuthorizationCode, GrantKind::kClientCredentials}) {
      const GrantSpec* grant = entry.Grant(kind);
      if (grant == nullptr) continue;
      ParameterValues given;
      given.client_secret = Secret("secret");
      for (const ParameterSpec& parameter : grant->parameters) {
        if (parameter.secret) continue;
        if (!parameter.required && parameter.name != kClientIdParameter) continue;
        switch (parameter.type) {
          case ParameterType::kUrl:
            given.values[parameter.name] = "https://example.com";
            break;
          case ParameterType::kUri:
            given.values[parameter.name] = "https://resource.example.com";
            break;
          case ParameterType::kHostname:
            given.values[parameter.name] = "tenant.example.com";
            break;
          default:
            given.values[parameter.name] = "sample";
            break;
        }
      }
      auto applied = ApplyParameterSpecs(*grant, given, false, "");
      ASSERT_TRUE(applied.ok()) << id << ": " << applied.error().message;
      auto config = ResolveProviderConfig(entry, kind, *applied, "p", "P");
      ASSERT_TRUE(config.ok()) << id << ": " << config.error().message;
      Status valid = ValidateProviderConfig(*config);
      EXPECT_TRUE(valid.ok()) << id << ": " << (valid.ok() ? "" : valid.error().message);
    }
  }
}

TEST(BuiltinCatalogue, RenderListsParameterAttributes) {
  const CatalogueEntry* aad = BuiltinCatalogue().Find("aad");
  ASSERT_NE(aad, nullptr);
  boost::json::object rendered = RenderCatalogueEntry(*aad);
  const auto& parameters =
      rendered.at("grantTypes").at("authorizationCode").at("parameters").as_array();
  bool found_tenant = false;
  for (const auto& value : parameters) {
    const auto& parameter = value.as_object();
    EXPECT_TRUE(parameter.contains("type"));
    EXPECT_TRUE(parameter.contains("required"));
    EXPECT_TRUE(parameter.contains("default"));
    EXPECT_TRUE(parameter.contains("secret"));
    if (parameter.at("name") == "tenantId") {
      found_tenant = true;
      EXPECT_EQ(parameter.at("default"), "common");
      EXPECT_EQ(parameter.at("required"), false);
    }
    if (parameter.at("name") == "clientSecret") {
      EXPECT_EQ(parameter.at("secret"), true);
    }
  }
  EXPECT_TRUE(found_tenant);
}

// A minimal valid entry; each invalid case below replaces one piece of it.
constexpr std::string_view kValidEntry = R"({
  "id": "test", "displayName": "Test", "documentation": "https://docs.example.com/oauth",
  "clientAuthentication": "client_secret_basic",
  "grantTypes": {"authorizationCode": {
    "parameters": [
      {"name": "clientId", "type": "string", "required": true},
      {"name": "clientSecret", "type": "string", "required": true, "secret": true},
      {"name": "subdomain", "type": "label", "required": true}],
    "authorizationUrl": "https://{subdomain}.example.com/authorize",
    "tokenUrl": "https://{subdomain}.example.com/token"}},
  "tokens": {"accessTokensExpire": true, "refreshTokenRotation": "never"}})";

TEST(CatalogueParse, AcceptsMinimalEntry) {
  auto entry = ParseCatalogueEntry("test.json", kValidEntry);
  ASSERT_TRUE(entry.ok()) << entry.error().message;
  EXPECT_EQ(entry->id, "test");
  ASSERT_TRUE(entry->authorization_code.has_value());
  EXPECT_FALSE(entry->client_credentials.has_value());
  EXPECT_EQ(entry->token_locations.access_token, "/access_token");
}

struct BadEntry {
  std::string_view from;  // Replaced in kValidEntry...
  std::string_view to;    // ...by this.
  std::string_view expected;  // The error message contains this.
};

class CatalogueParseErrorTest : public testing::TestWithParam<BadEntry> {};

TEST_P(CatalogueParseErrorTest, NamesFileAndField) {
  std::string text(kValidEntry);
  const size_t at = text.find(GetParam().from);
  ASSERT_NE(at, std::string::npos) << GetParam().from;
  text.replace(at, GetParam().from.size(), GetParam().to);
  auto entry = ParseCatalogueEntry("test.json", text);
  ASSERT_FALSE(entry.ok()) << GetParam().to;
  EXPECT_EQ(entry.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(entry.error().message.starts_with("test.json: ")) << entry.error().message;
  EXPECT_NE(entry.error().message.find(GetParam().expected), std::string::npos)
      << entry.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CatalogueParseErrorTest,
    testing::Values(
        BadEntry{R"("id": "test")", R"("id": "other")", "id: \"other\" must match"},
        BadEntry{R"("displayName": "Test", )", "", "displayName: is required"},
        BadEntry{"https://docs.example.com/oauth", "http://docs.example.com", "documentation"},
        BadEntry{"client_secret_basic", "private_key_jwt", "clientAuthentication"},
        BadEntry{"{subdomain}.example.com/token", "{tenant}.example.com/token",
                 "grantTypes.authorizationCode.tokenUrl: placeholder {tenant}"},
        BadEntry{"https://{subdomain}.example.com/authorize", "http://{subdomain}.example/a",
                 "grantTypes.authorizationCode.authorizationUrl"},
        BadEntry{R"("type": "label")", R"("type": "number")",
                 "grantTypes.authorizationCode.parameters[2].type"},
        BadEntry{R"("required": true, "secret": true)", R"("required": true)",
                 "clientSecret must be marked secret"},
        BadEntry{R"("type": "label", "required": true)",
                 R"("type": "label", "required": true, "secret": true)",
                 "only the clientSecret parameter may be secret"},
        BadEntry{R"("type": "label", "required": true)", R"("type": "label", "default": "a b")",
                 "parameters[2].default"},
        BadEntry{R"("displayName": "Test",)", R"("displayName": "Test", "scope": " ",)",
                 "scope: is not a member"},
        BadEntry{R"("refreshTokenRotation": "never")", R"("refreshTokenRotation": "yes")",
                 "tokens.refreshTokenRotation"},
        BadEntry{R"("tokenUrl": "https://{subdomain}.example.com/token"})",
                 R"("tokenUrl": "https://{subdomain}.example.com/token",
                    "tokenParameters": {"grant_type": "x"}})",
                 "tokenParameters.grant_type: credgate sets this parameter itself"},
        BadEntry{R"("refreshTokenRotation": "never"})",
                 R"("refreshTokenRotation": "never"}, "keep": [{"name": "x", "from": "header",
                    "path": "/x"}])",
                 "keep[0].from"},
        BadEntry{R"("tokenUrl": "https://{subdomain}.example.com/token"})",
                 R"("tokenUrl": "https://{subdomain}.example.com/token",
                    "authorizationResponseIssParameterSupported": true})",
                 "authorizationResponseIssParameterSupported: needs the grant's issuer"},
        BadEntry{R"("tokenUrl": "https://{subdomain}.example.com/token"})",
                 R"("tokenUrl": "https://{subdomain}.example.com/token",
                    "issuer": "https://{tenant}.example.com"})",
                 "grantTypes.authorizationCode.issuer: placeholder {tenant}"}));

TEST(CatalogueLoad, RejectsDuplicateIds) {
  const std::pair<std::string_view, std::string_view> files[] = {
      {"test.json", kValidEntry}, {"test.json", kValidEntry}};
  auto catalogue = Catalogue::Load(files);
  ASSERT_FALSE(catalogue.ok());
  EXPECT_NE(catalogue.error().message.find("used by another entry"), std::string::npos);
}

TEST(ProviderResolution, ExpandsLabelIntoHost) {
  auto entry = ParseCatalogueEntry("test.json", kValidEntry);
  ASSERT_TRUE(entry.ok());
  ParameterValues values;
  values.values = {{"clientId", "id"}, {"subdomain", "acme"}};
  values.client_secret = Secret("s");
  auto config = ResolveProviderConfig(*entry, GrantKind::kAuthorizationCode, values, "p", "P");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->authorization_url, "https://acme.example.com/authorize");
  EXPECT_EQ(config->token_url, "https://acme.example.com/token");
}

TEST(ProviderResolution, RejectsLabelWithDot) {
  auto entry = ParseCatalogueEntry("test.json", kValidEntry);
  ASSERT_TRUE(entry.ok());
  ParameterValues given;
  given.values = {{"clientId", "id"}, {"subdomain", "evil.com/x"}};
  auto applied = ApplyParameterSpecs(*entry->authorization_code, given, false, "p.");
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("p.subdomain"), std::string::npos);
}

TEST(ProviderResolution, StringParameterIsPercentEncodedInUrl) {
  const CatalogueEntry* keycloak = BuiltinCatalogue().Find("keycloak");
  ASSERT_NE(keycloak, nullptr);
  ParameterValues values;
  values.values = {{"clientId", "id"}, {"baseUrl", "https://sso.example.com/"},
                   {"realm", "a/b c"}, {"scopes", "openid"}};
  values.client_secret = Secret("s");
  auto config =
      ResolveProviderConfig(*keycloak, GrantKind::kAuthorizationCode, values, "p", "P");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->token_url,
            "https://sso.example.com/realms/a%2Fb%20c/protocol/openid-connect/token");
}

// Resolves the generic oauth2pkce entry with `extra` parameter values.
Result<ProviderConfig> ResolveGeneric(std::map<std::string, std::string, std::less<>> extra) {
  const CatalogueEntry* entry = BuiltinCatalogue().Find("oauth2pkce");
  if (entry == nullptr) return MakeError(ErrorCode::kNotFound, "no oauth2pkce entry");
  ParameterValues given;
  given.values = {{"clientId", "id"},
                  {"authorizationUrl", "https://as.example.com/authorize"},
                  {"tokenUrl", "https://as.example.com/token"}};
  given.values.merge(extra);
  auto applied = ApplyParameterSpecs(*entry->authorization_code, given, false, "");
  if (!applied.ok()) return applied.error();
  auto config = ResolveProviderConfig(*entry, GrantKind::kAuthorizationCode, *applied, "p", "P");
  if (!config.ok()) return config.error();
  CREDGATE_RETURN_IF_ERROR(ValidateProviderConfig(*config));
  return config;
}

TEST(ProviderIssuer, UnknownByDefault) {
  auto config = ResolveGeneric({});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->issuer, "");
  EXPECT_FALSE(config->require_iss_parameter);
}

TEST(ProviderIssuer, GenericSettingsSetIt) {
  auto config = ResolveGeneric({{"issuer", "https://as.example.com"},
                                {"authorizationResponseIssParameterSupported", "true"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->issuer, "https://as.example.com");
  EXPECT_TRUE(config->require_iss_parameter);
}

TEST(ProviderIssuer, RequirementNeedsIssuer) {
  auto config = ResolveGeneric({{"authorizationResponseIssParameterSupported", "true"}});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("authorizationResponseIssParameterSupported"),
            std::string::npos)
      << config.error().message;
}

TEST(ProviderIssuer, RejectsFlagOtherThanBoolean) {
  auto config = ResolveGeneric({{"issuer", "https://as.example.com"},
                                {"authorizationResponseIssParameterSupported", "yes"}});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("use true or false"), std::string::npos)
      << config.error().message;
}

TEST(ProviderIssuer, RejectsIssuerWithQuery) {
  auto config = ResolveGeneric({{"issuer", "https://as.example.com/?tenant=x"}});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("issuer"), std::string::npos) << config.error().message;
}

TEST(ProviderIssuer, CatalogueTemplateExpands) {
  const CatalogueEntry* keycloak = BuiltinCatalogue().Find("keycloak");
  ASSERT_NE(keycloak, nullptr);
  ParameterValues values;
  values.values = {{"clientId", "id"}, {"baseUrl", "https://sso.example.com"},
                   {"realm", "corp"}, {"scopes", "openid"}};
  values.client_secret = Secret("s");
  auto config =
      ResolveProviderConfig(*keycloak, GrantKind::kAuthorizationCode, values, "p", "P");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->issuer, "https://sso.example.com/realms/corp");
  EXPECT_FALSE(config->require_iss_parameter);
}

TEST(ProviderResolution, AppliesDefaultsAndRejectsUnknown) {
  const CatalogueEntry* aad = BuiltinCatalogue().Find("aad");
  ASSERT_NE(aad, nullptr);
  ParameterValues given;
  given.values = {{"clientId", "id"}, {"resourceUri", "https://graph.microsoft.com"}};
  auto applied = ApplyParameterSpecs(*aad->authorization_code, given, false, "");
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(applied->Get("tenantId"), "common");
  EXPECT_EQ(applied->Get("loginUri"), "https://login.windows.net");

  given.values["tenant"] = "x";
  auto unknown = ApplyParameterSpecs(*aad->authorization_code, given, false, "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("tenant: is not a parameter"), std::string::npos)
      << unknown.error().message;
}

TEST(ProviderResolution, ConnectionParametersOverrideProvider) {
  const CatalogueEntry* oauth2 = BuiltinCatalogue().Find("oauth2");
  ASSERT_NE(oauth2, nullptr);
  const GrantSpec& grant = *oauth2->client_credentials;
  ParameterValues provider;
  provider.values = {{"tokenUrl", "https://idp.example/token"}, {"clientId", "shared"}};
  provider.client_secret = Secret("shared-secret");
  ParameterValues connection;
  connection.values = {{"clientId", "own"}};
  connection.client_secret = Secret("own-secret");
  auto merged = MergeConnectionParameters(grant, provider, connection, "properties.parameters.");
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->Get("clientId"), "own");
  EXPECT_TRUE(merged->client_secret.Equals("own-secret"));
  EXPECT_EQ(merged->Get("tokenUrl"), "https://idp.example/token");

  connection.values = {{"tokenUrl", "https://evil.example/token"}};
  auto rejected = MergeConnectionParameters(grant, provider, connection, "properties.parameters.");
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.error().message.find("properties.parameters.tokenUrl"), std::string::npos);
}

TEST(ScopeLists, NormalizeAndJoin) {
  EXPECT_EQ(NormalizeScopes("  a  b ", ' '), "a b");
  EXPECT_EQ(NormalizeScopes("a,b c", ','), "a b c");
  EXPECT_EQ(NormalizeScopes("a,b", ' '), "a,b");
  EXPECT_EQ(JoinScopes("a b c", ','), "a,b,c");
  EXPECT_EQ(JoinScopes("a b", ' '), "a b");
}

}  // namespace
}  // namespace credgate::credentials
