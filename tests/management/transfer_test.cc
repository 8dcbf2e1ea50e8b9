// The export document without a server: a snapshot exported and validated for import into an
// empty instance or into one that has the resources already.
#include "management/transfer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "crypto/export_seal.h"
#include "management/backends.h"
#include "management/persistence.h"
#include "management/resources.h"

namespace credgate::management {
namespace {

namespace json = boost::json;

constexpr char kProviderPath[] = "/authorizationProviders/github";
constexpr char kConnectionPath[] = "/authorizationProviders/github/authorizations/alice";

class TransferTest : public testing::Test {
 protected:
  void SetUp() override {
    auto body = ParseJsonBody(R"({"properties":{"identityProvider":"oauth2pkce","oauth2":{
        "grantTypes":{"authorizationCode":{"clientId":"client-1","clientSecret":"secret-1",
        "scopes":"read","authorizationUrl":"https://127.0.0.1:9/authorize",
        "tokenUrl":"https://127.0.0.1:9/token"}}}}})");
    ASSERT_TRUE(body.ok());
    auto provider = ParseProvider("github", *body);
    ASSERT_TRUE(provider.ok()) << provider.error().message;
    auto entry = std::make_shared<runtime::ProviderEntry>();
    auto config = ToProviderConfig(*provider, provider->client_secret);
    ASSERT_TRUE(config.ok()) << config.error().message;
    entry->config = std::move(*config);
    entry->resource = std::move(*provider);
    entry->resource.client_secret = Secret();
    source_.providers["github"] = entry;

    auto connection = std::make_shared<runtime::ConnectionEntry>();
    source_.connections["github/alice"] = connection;

    credentials::TokenSet tokens;
    tokens.access_token = Secret("access-1");
    tokens.refresh_token = Secret("refresh-1");
    tokens.token_type = "Bearer";
    tokens_["github/alice"] = std::move(tokens);
    statuses_.Set("github/alice", ConnectionState{true, "", ""});
  }

  json::value Export() {
    auto document = BuildExportDocument(source_, tokens_, statuses_, key_, TimePoint(), random_);
    EXPECT_TRUE(document.ok());
    return document.ok() ? json::value(*document) : json::value();
  }

  json::object& Entry(json::value& document, std::string_view path) {
    for (auto& entry : document.at("resources").as_array()) {
      if (entry.at("path").as_string() == path) return entry.as_object();
    }
    ADD_FAILURE() << "no entry " << path;
    static json::object none;
    return none;
  }

  OpenSslRandom random_;
  Secret key_ = *crypto::ParseExportKey(crypto::GenerateExportKey(random_).Expose());
  runtime::Snapshot source_;
  runtime::Snapshot empty_;
  std::map<std::string, credentials::TokenSet> tokens_;
  runtime::ConnectionStatusTable statuses_;
};

TEST_F(TransferTest, SecretsAreSealed) {
  std::string text = json::serialize(Export());
  EXPECT_EQ(text.find("secret-1"), std::string::npos);
  EXPECT_EQ(text.find("refresh-1"), std::string::npos);
  EXPECT_EQ(text.find("access-1"), std::string::npos);
}

TEST_F(TransferTest, RoundTripsIntoAnEmptyInstance) {
  auto items = ValidateImportDocument(Export(), key_, empty_, ImportMode::kCreateOnly);
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].path_text, kProviderPath);
  EXPECT_NE((*items)[0].body.Expose().find("secret-1"), std::string::npos);
  EXPECT_EQ((*items)[1].path_text, kConnectionPath);
  ASSERT_TRUE((*items)[1].tokens.has_value());
  EXPECT_TRUE((*items)[1].tokens->refresh_token.Equals("refresh-1"));
  EXPECT_FALSE((*items)[1].error_status.has_value());
}

TEST_F(TransferTest, WrongKeyIsRejected) {
  Secret other = *crypto::ParseExportKey(crypto::GenerateExportKey(random_).Expose());
  auto items = ValidateImportDocument(Export(), other, empty_, ImportMode::kCreateOnly);
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(TransferTest, UnknownFormatVersionIsRejected) {
  json::value document = Export();
  document.as_object()["formatVersion"] = 2;
  auto items = ValidateImportDocument(document, key_, empty_, ImportMode::kCreateOnly);
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("formatVersion"), std::string::npos);
}

TEST_F(TransferTest, InvalidBodyNamesPathAndField) {
  json::value document = Export();
  Entry(document, kConnectionPath)["body"]
      .as_object()["properties"]
      .as_object()["oauth2grantType"] = "Password";
  auto items = ValidateImportDocument(document, key_, empty_, ImportMode::kCreateOnly);
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.error().message.rfind(kConnectionPath, 0), 0u) << items.error().message;
  EXPECT_NE(items.error().message.find("properties.oauth2grantType"), std::string::npos);
}

TEST_F(TransferTest, ConnectionWithoutProviderIsRejected) {
  json::value document = Export();
  json::array& resources = document.at("resources").as_array();
  resources.erase(resources.begin());
  auto items = ValidateImportDocument(document, key_, empty_, ImportMode::kCreateOnly);
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("'github'"), std::string::npos);
}

TEST_F(TransferTest, CreateOnlyRejectsAnExistingResource) {
  auto items = ValidateImportDocument(Export(), key_, source_, ImportMode::kCreateOnly);
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(items.error().message.rfind(kProviderPath, 0), 0u);
}

TEST_F(TransferTest, ReplaceMarksExistingResources) {
  auto items = ValidateImportDocument(Export(), key_, source_, ImportMode::kReplace);
  ASSERT_TRUE(items.ok()) << items.error().message;
  EXPECT_TRUE((*items)[0].replaces);
}

TEST_F(TransferTest, ReplaceKeepsTheGrantOfAProviderWithConnections) {
  json::value document = Export();
  json::object& grants = Entry(document, kProviderPath)["body"]
                             .as_object()["properties"]
                             .as_object()["oauth2"]
                             .as_object()["grantTypes"]
                             .as_object();
  grants.erase("authorizationCode");
  grants["clientCredentials"] = json::object{{"tokenUrl", "https://127.0.0.1:9/token"}};
  Entry(document, kProviderPath)["body"].as_object()["properties"].as_object()["identityProvider"] =
      "oauth2";
  json::object& sealed = Entry(document, kProviderPath)["sealed"].as_object();
  sealed.clear();
  json::array& resources = document.at("resources").as_array();
  resources.erase(resources.begin() + 1);  // The connection, which the stored one would keep.
  auto items = ValidateImportDocument(document, key_, source_, ImportMode::kReplace);
  ASSERT_FALSE(items.ok());
  EXPECT_EQ(items.error().message.rfind(kProviderPath, 0), 0u) << items.error().message;
  EXPECT_NE(items.error().message.find("grant type"), std::string::npos);
}

TEST_F(TransferTest, ErrorStatusTravels) {
  statuses_.Set("github/alice", ConnectionState{false, "ReloginRequired", "sign in again"});
  auto items = ValidateImportDocument(Export(), key_, empty_, ImportMode::kCreateOnly);
  ASSERT_TRUE(items.ok()) << items.error().message;
  ASSERT_TRUE((*items)[1].error_status.has_value());
  EXPECT_EQ((*items)[1].error_status->code, "ReloginRequired");
}

TEST_F(TransferTest, DuplicatePathIsRejected) {
  json::value document = Export();
  json::array& resources = document.at("resources").as_array();
  resources.push_back(resources[0]);
  auto items = ValidateImportDocument(document, key_, empty_, ImportMode::kCreateOnly);
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("twice"), std::string::npos);
}

TEST_F(TransferTest, ClientCredentialsSecretTravelsSealed) {
  auto body = ParseJsonBody(R"({"properties":{"identityProvider":"oauth2","oauth2":{
      "grantTypes":{"clientCredentials":{"tokenUrl":"https://127.0.0.1:9/token"}}}}})");
  ASSERT_TRUE(body.ok());
  auto provider = ParseProvider("daemon", *body);
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  auto entry = std::make_shared<runtime::ProviderEntry>();
  auto config = ToProviderConfig(*provider, Secret());
  ASSERT_TRUE(config.ok()) << config.error().message;
  entry->config = std::move(*config);
  entry->resource = std::move(*provider);
  source_.providers["daemon"] = entry;
  auto connection = std::make_shared<runtime::ConnectionEntry>();
  connection->grant_type = GrantType::kClientCredentials;
  connection->parameters_given = true;
  connection->parameters.Mutable().values["clientId"] = "worker-client";
  connection->parameters.Mutable().client_secret = Secret("worker-secret-1");
  source_.connections["daemon/worker"] = connection;

  json::value document = Export();
  EXPECT_EQ(json::serialize(document).find("worker-secret-1"), std::string::npos);
  auto items = ValidateImportDocument(document, key_, empty_, ImportMode::kCreateOnly);
  ASSERT_TRUE(items.ok()) << items.error().message;
  bool found = false;
  for (const auto& item : *items) {
    if (item.path_text != "/authorizationProviders/daemon/authorizations/worker") continue;
    found = true;
    auto parsed = ParseJsonBody(item.body.Expose());
    ASSERT_TRUE(parsed.ok());
    auto imported = ParseConnection("daemon", "worker", *parsed);
    ASSERT_TRUE(imported.ok()) << imported.error().message;
    EXPECT_TRUE(imported->parameters->client_secret.Equals("worker-secret-1"));
    EXPECT_EQ(imported->parameters->Get("clientId"), "worker-client");
  }
  EXPECT_TRUE(found);
}

TEST_F(TransferTest, BackendCredentialsTravelSealed) {
  auto body = ParseJsonBody(R"({"properties":{"url":"https://orders.example","protocol":"http",
      "credentials":{"header":{"x-key":["backend-secret-1"]},
                     "authorization":{"scheme":"Basic","parameter":"backend-secret-2"}}}})");
  ASSERT_TRUE(body.ok());
  auto backend = ParseBackend("orders", *body);
  ASSERT_TRUE(backend.ok()) << backend.error().message;
  int status = 0;
  ASSERT_TRUE(SetBackend(source_, *backend, status).ok());

  json::value document = Export();
  const std::string text = json::serialize(document);
  EXPECT_EQ(text.find("backend-secret"), std::string::npos);
  auto items = ValidateImportDocument(document, key_, empty_, ImportMode::kCreateOnly);
  ASSERT_TRUE(items.ok()) << items.error().message;
  bool found = false;
  for (const auto& item : *items) {
    if (item.path_text != "/backends/orders") continue;
    found = true;
    auto parsed = ParseJsonBody(item.body.Expose());
    ASSERT_TRUE(parsed.ok());
    auto imported = ParseBackend("orders", *parsed);
    ASSERT_TRUE(imported.ok()) << imported.error().message;
    ASSERT_EQ(imported->headers.size(), 1u);
    EXPECT_EQ(imported->headers[0].values[0].Expose(), "backend-secret-1");
    EXPECT_EQ(imported->authorization_parameter.Expose(), "backend-secret-2");
  }
  EXPECT_TRUE(found);
}

TEST_F(TransferTest, PolicyNamingMissingBackendRejected) {
  json::value document = Export();
  json::object policy;
  policy["path"] = "/policies/policy";
  policy["body"] = json::object{
      {"properties",
       json::object{{"format", "rawxml"},
                    {"value",
                     "<policies><inbound><set-backend-service backend-id=\"absent\"/>"
                     "</inbound></policies>"}}}};
  document.at("resources").as_array().push_back(std::move(policy));
  auto items = ValidateImportDocument(document, key_, empty_, ImportMode::kCreateOnly);
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("names backend 'absent'"), std::string::npos)
      << items.error().message;
}

}  // namespace
}  // namespace credgate::management
