// LoadFromStore: the start-up load of the stored configuration, which parses records in batches
// on every core and applies them in order.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../credentials/fake_http_client.h"
#include "credentials/token_client.h"
#include "credentials/token_manager.h"
#include "identity/validator.h"
#include "management/persistence.h"
#include "management/token_persistence.h"
#include "service_fixture.h"

namespace credgate::management {
namespace {

constexpr char kProviderBody[] = R"({"properties":{"displayName":"GitHub",
  "identityProvider":"oauth2","oauth2":{"grantTypes":{"authorizationCode":{
  "clientId":"client","clientSecret":"secret","scopes":"repo",
  "authorizationUrl":"https://idp.example/authorize",
  "tokenUrl":"https://idp.example/token"}}}}})";
constexpr char kProviderKey[] = "authorizationProviders/github";
constexpr char kTenant[] = "11111111-1111-1111-1111-111111111111";

// A ServiceTest with the token manager and validator that the load fills, and a fresh
// configuration state to load into.
class ConfigurationLoadTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    services_.tokens = &tokens_;
    services_.validator = &validator_;
    ASSERT_EQ(Call("PUT", "/authorizationProviders/github", kProviderBody).status, 201);
  }

  // Stores connection `id` of github, with one access policy per object id, straight into the
  // store as a gateway would have written them.
  void AddConnection(store::WriteBatch& batch, const std::string& id,
                     const std::vector<std::string>& object_ids) {
    const std::string key = ConnectionStoreKey("github/" + id);
    ConnectionResource connection;
    connection.provider_id = "github";
    connection.id = id;
    auto record = ConnectionRecord(key, kProviderKey, connection, *keyring_);
    ASSERT_TRUE(record.ok()) << record.error().message;
    batch.resources.push_back(std::move(*record));
    for (const std::string& object_id : object_ids) {
      AccessPolicyResource policy{"github", id, object_id, kTenant, object_id, {}};
      batch.resources.push_back(
          store::ResourceRecord{"accessPolicy", key + "/accessPolicies/" + object_id, key,
                                boost::json::serialize(RenderAccessPolicy(policy)), 0, 0});
    }
  }

  void Store(const store::WriteBatch& batch) {
    auto stored = store_->blocking_store().ApplyBatch(batch);
    ASSERT_TRUE(stored.ok()) << stored.error().message;
  }

  // Loads the store into `loaded_`, as a restarted gateway does.
  void Load() {
    services_.config = &loaded_;
    Status status = LoadFromStore(store_->blocking_store(), services_);
    services_.config = &config_;
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  std::vector<std::string> PolicyIds(const std::string& connection_key) {
    auto it = loaded_.Current()->connections.find(connection_key);
    if (it == loaded_.Current()->connections.end()) return {};
    std::vector<std::string> ids;
    for (const auto& policy : it->second->access_policies.InOrder()) ids.push_back(policy.id);
    return ids;
  }

  credentials::testing::FakeHttpClient http_;
  credentials::TokenClient client_{http_, clock_};
  StoreTokenPersistence persistence_{services_};
  credentials::TokenManager tokens_{client_, persistence_, clock_};
  identity::JwtValidator validator_{
      std::shared_ptr<http::HttpClient>(&http_, [](http::HttpClient*) {}),
      std::shared_ptr<const Clock>(&clock_, [](const Clock*) {})};
  runtime::ConfigState loaded_;
};

TEST_F(ConfigurationLoadTest, LoadsEveryRecordAcrossBatches) {
  // 12,000 records: more than one parse batch.
  store::WriteBatch batch;
  for (int i = 0; i < 6000; ++i) AddConnection(batch, "user" + std::to_string(i), {"owner"});
  Store(batch);
  Load();

  const auto& connections = loaded_.Current()->connections;
  EXPECT_EQ(connections.size(), 6000u);
  EXPECT_EQ(PolicyIds("github/user0"), std::vector<std::string>{"owner"});
  EXPECT_EQ(PolicyIds("github/user5999"), std::vector<std::string>{"owner"});
  EXPECT_EQ(loaded_.Current()->providers.count("github"), 1u);
}

TEST_F(ConfigurationLoadTest, PoliciesLoadInKeyOrder) {
  store::WriteBatch batch;
  AddConnection(batch, "alice", {"zed", "amy", "kim"});
  Store(batch);
  Load();
  EXPECT_EQ(PolicyIds("github/alice"), (std::vector<std::string>{"amy", "kim", "zed"}));
}

TEST_F(ConfigurationLoadTest, SkipsUnreadableRecordsOnly) {
  store::WriteBatch batch;
  AddConnection(batch, "alice", {"owner"});
  AddConnection(batch, "bob", {"owner"});
  // A connection whose body is not JSON, and a policy of a connection that is not stored.
  batch.resources.push_back(store::ResourceRecord{"connection", ConnectionStoreKey("github/carol"),
                                                  kProviderKey, "{not json", 0, 0});
  const std::string dave = ConnectionStoreKey("github/dave");
  AccessPolicyResource orphan{"github", "dave", "owner", kTenant, "owner", {}};
  batch.resources.push_back(
      store::ResourceRecord{"accessPolicy", dave + "/accessPolicies/owner", dave,
                            boost::json::serialize(RenderAccessPolicy(orphan)), 0, 0});
  Store(batch);
  Load();

  const auto& connections = loaded_.Current()->connections;
  EXPECT_EQ(connections.size(), 2u);
  EXPECT_TRUE(connections.contains("github/alice"));
  EXPECT_TRUE(connections.contains("github/bob"));
  EXPECT_FALSE(connections.contains("github/carol"));
  EXPECT_FALSE(connections.contains("github/dave"));
}

TEST_F(ConfigurationLoadTest, PublishedSnapshotKeepsItsPolicies) {
  // A policy that another gateway adds later changes a copy of the connection, because readers
  // of the published snapshot still use its entry.
  store::WriteBatch batch;
  AddConnection(batch, "alice", {"owner"});
  Store(batch);
  Load();
  const std::shared_ptr<const runtime::Snapshot> published = loaded_.Current();

  const std::string key = ConnectionStoreKey("github/alice");
  AccessPolicyResource extra{"github", "alice", "extra", kTenant, "extra", {}};
  services_.config = &loaded_;
  Status applied = ApplyStoredRecord(
      store::ResourceRecord{"accessPolicy", key + "/accessPolicies/extra", key,
                            boost::json::serialize(RenderAccessPolicy(extra)), 1, 0},
      services_);
  services_.config = &config_;
  ASSERT_TRUE(applied.ok()) << applied.error().message;

  EXPECT_EQ(PolicyIds("github/alice"), (std::vector<std::string>{"owner", "extra"}));
  EXPECT_EQ(published->connections.find("github/alice")->second->access_policies.size(), 1u);
}

}  // namespace
}  // namespace credgate::management
