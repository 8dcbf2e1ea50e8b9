// POST /import against a real SqliteStore: the writes of an import are built first and committed
// in one transaction, so an import that fails at its last write stores nothing and leaves memory
// unchanged.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "../credentials/run_coroutine.h"
#include "crypto/export_seal.h"
#include "management/persistence.h"
#include "management/resources.h"
#include "management/transfer.h"
#include "management/transfer_handlers.h"
#include "runtime/state.h"
#include "service_fixture.h"
#include "store/sqlite_database.h"

namespace credgate::management {
namespace {

namespace json = boost::json;
using credentials::testing::RunCoroutine;

constexpr char kConnectionStoreKey[] = "authorizationProviders/github/authorizations/alice";

class TransferImportTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (!HasFatalFailure()) BuildSource();
  }

  // The exporting instance: provider "github" with the connection "alice" and its tokens.
  void BuildSource() {
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
    source_tokens_["github/alice"] = std::move(tokens);
    source_statuses_.Set("github/alice", ConnectionState{true, "", ""});
  }

  json::value Export() {
    auto document = BuildExportDocument(source_, source_tokens_, source_statuses_, export_key_,
                                        TimePoint(), random_);
    EXPECT_TRUE(document.ok());
    return document.ok() ? json::value(*document) : json::value();
  }

  Result<json::value> Import() {
    json::object request;
    request["exportKey"] = export_key_text_.Expose();
    request["document"] = Export();
    int status = 0;
    return RunCoroutine(
        HandleTransferCall(services_, "POST", "/import", json::serialize(request), status));
  }

  // Makes the database reject the token record of github/alice, the last write of the import.
  void RejectLastWrite() {
    auto database = store::SqliteDatabase::Open(DatabasePath(), std::chrono::seconds(5));
    ASSERT_TRUE(database.ok()) << database.error().message;
    const std::string key = kConnectionStoreKey;
    const std::string sql =
        "CREATE TRIGGER reject_alice_tokens BEFORE INSERT ON tokens WHEN NEW.connection_key = '" +
        key + "' BEGIN SELECT RAISE(ABORT, 'test trigger rejects this token record'); END";
    Status created = (*database)->Exec(sql, "create test trigger");
    ASSERT_TRUE(created.ok()) << created.error().message;
  }

  OpenSslRandom random_;
  Secret export_key_text_ = crypto::GenerateExportKey(random_);
  Secret export_key_ = *crypto::ParseExportKey(export_key_text_.Expose());
  runtime::Snapshot source_;
  std::map<std::string, credentials::TokenSet> source_tokens_;
  runtime::ConnectionStatusTable source_statuses_;
};

TEST_F(TransferImportTest, BatchContainsEveryWrite) {
  auto items =
      ValidateImportDocument(Export(), export_key_, runtime::Snapshot(), ImportMode::kCreateOnly);
  ASSERT_TRUE(items.ok()) << items.error().message;
  auto batch = BuildImportBatch(*items, runtime::Snapshot(), *keyring_, clock_.Now());
  ASSERT_TRUE(batch.ok()) << batch.error().message;

  const auto& resources = batch->writes.resources;
  ASSERT_EQ(resources.size(), 3u);
  EXPECT_EQ(resources[0].kind, "provider");
  EXPECT_EQ(resources[0].key, "authorizationProviders/github");
  EXPECT_EQ(resources[0].body_json.find("secret-1"), std::string::npos);
  EXPECT_NE(resources[0].body_json.find(kSealedSecretMember), std::string::npos);
  EXPECT_EQ(resources[1].kind, "connection");
  EXPECT_EQ(resources[1].key, kConnectionStoreKey);
  EXPECT_EQ(resources[1].parent_key, "authorizationProviders/github");
  EXPECT_EQ(resources[2].kind, "connectionState");
  EXPECT_EQ(resources[2].key, std::string(kConnectionStoreKey) + "/state");

  ASSERT_EQ(batch->writes.tokens.size(), 1u);
  EXPECT_EQ(batch->writes.tokens[0].connection_key, kConnectionStoreKey);
  EXPECT_EQ(batch->writes.tokens[0].sealed_tokens.find("refresh-1"), std::string::npos);
  ASSERT_EQ(batch->token_sets.size(), 1u);
  EXPECT_EQ(batch->token_sets[0].connection_key, "github/alice");
  EXPECT_TRUE(batch->token_sets[0].state.connected);
  EXPECT_TRUE(batch->client_credentials.empty());
}

TEST_F(TransferImportTest, FailureOnLastWriteChangesNothing) {
  RejectLastWrite();
  auto imported = Import();
  ASSERT_FALSE(imported.ok());
  EXPECT_NE(imported.error().message.find("the import stored nothing"), std::string::npos)
      << imported.error().message;
  // The message starts with the document path of the item whose write failed.
  EXPECT_EQ(imported.error().message.rfind(std::string("/") + kConnectionStoreKey + ": ", 0), 0u)
      << imported.error().message;

  store::Store& store = store_->blocking_store();
  auto resources = store.ListAll();
  ASSERT_TRUE(resources.ok()) << resources.error().message;
  EXPECT_TRUE(resources->empty());
  auto tokens = store.ListAllTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_TRUE(tokens->empty());
  auto snapshot = config_.Current();
  EXPECT_TRUE(snapshot->providers.empty());
  EXPECT_TRUE(snapshot->connections.empty());
  EXPECT_TRUE(statuses_.CountByStatus().empty());
}

}  // namespace
}  // namespace credgate::management
