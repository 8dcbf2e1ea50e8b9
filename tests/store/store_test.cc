// The Store contract (store.h) on every backend: each case runs on SqliteStore and on
// PostgresStore.
#include <gtest/gtest.h>

#include "store/sqlite_database.h"
#include "store_backend_fixture.h"
#include "store_fixture.h"

namespace credgate::store {
namespace {

constexpr char kProvider[] = "authorizationProvider";
constexpr char kConnection[] = "authorization";
constexpr char kGithub[] = "authorizationProviders/github";
constexpr char kAlice[] = "authorizationProviders/github/authorizations/alice";
constexpr char kBob[] = "authorizationProviders/github/authorizations/bob";

class StoreTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  void PutResource(const ResourceRecord& record) {
    auto stored = store_->Put(record);
    ASSERT_TRUE(stored.ok()) << stored.error().message;
  }

  void PutGithubTree() {
    PutResource(Resource(kProvider, kGithub, ""));
    PutResource(Resource(kProvider, "authorizationProviders/github-enterprise", ""));
    PutResource(Resource(kConnection, kAlice, kGithub));
    PutResource(Resource(kConnection, kBob, kGithub));
    ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "sealed-a"), std::nullopt).ok());
    ASSERT_TRUE(store_->PutTokens(Tokens(kBob, "sealed-b"), std::nullopt).ok());
  }

  // Makes the database reject the insert of the token record of `connection_key`, so that a
  // write fails in the middle of a transaction.
  void RejectTokenInsert(const std::string& connection_key) {
    if (GetParam() == StoreBackend::kSqlite) {
      auto database =
          SqliteDatabase::Open((folder_ / "credgate.db").string(), std::chrono::seconds(5));
      ASSERT_TRUE(database.ok()) << database.error().message;
      Status created = (*database)->Exec(
          "CREATE TRIGGER reject_tokens BEFORE INSERT ON tokens WHEN NEW.connection_key = '" +
              connection_key + "' BEGIN SELECT RAISE(ABORT, 'rejected by the test trigger'); END",
          "create test trigger");
      ASSERT_TRUE(created.ok()) << created.error().message;
      return;
    }
    auto admin = ConnectAdmin();
    ASSERT_NE(admin, nullptr);
    const std::string schema = admin->QuoteIdentifier(schema_);
    Status created = admin->ExecuteScript(
        "CREATE FUNCTION " + schema +
            ".reject_tokens() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.connection_key = '" +
            connection_key +
            "' THEN RAISE EXCEPTION 'rejected by the test trigger'; END IF; RETURN NEW; END $$; "
            "CREATE TRIGGER reject_tokens BEFORE INSERT ON " +
            schema + ".tokens FOR EACH ROW EXECUTE FUNCTION " + schema + ".reject_tokens()",
        "create test trigger");
    ASSERT_TRUE(created.ok()) << created.error().message;
  }

  std::unique_ptr<Store> store_;
};

INSTANTIATE_STORE_BACKENDS(StoreTest);

TEST_P(StoreTest, PutThenGet) {
  PutResource(Resource(kProvider, kGithub, "", R"({"clientId":"abc"})"));
  auto record = store_->Get(kProvider, kGithub);
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->body_json, R"({"clientId":"abc"})");
  EXPECT_EQ(record->version, 1);
  EXPECT_EQ(record->updated_at, 1'700'000'000);
}

TEST_P(StoreTest, PutBumpsVersion) {
  ASSERT_EQ(store_->Put(Resource(kProvider, kGithub, "")).value().version, 1);
  auto second = store_->Put(Resource(kProvider, kGithub, "", R"({"v":2})"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(store_->Get(kProvider, kGithub).value().body_json, R"({"v":2})");
}

TEST_P(StoreTest, GetMissingIsNotFound) {
  auto record = store_->Get(kProvider, "authorizationProviders/none");
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.error().code, ErrorCode::kNotFound);
  EXPECT_NE(record.error().message.find("authorizationProviders/none"), std::string::npos);
}

TEST_P(StoreTest, GetChecksKind) {
  PutResource(Resource(kProvider, kGithub, ""));
  EXPECT_FALSE(store_->Get(kConnection, kGithub).ok());
}

TEST_P(StoreTest, PutRejectsKeyOutsideParent) {
  auto stored = store_->Put(Resource(kConnection, "elsewhere/alice", kGithub));
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreTest, PutRejectsEmptyKey) {
  EXPECT_FALSE(store_->Put(Resource(kProvider, "", "")).ok());
}

TEST_P(StoreTest, ListByParent) {
  PutGithubTree();
  auto connections = store_->List(kConnection, kGithub);
  ASSERT_TRUE(connections.ok());
  ASSERT_EQ(connections->size(), 2u);
  EXPECT_EQ((*connections)[0].key, kAlice);
  EXPECT_EQ((*connections)[1].key, kBob);

  auto providers = store_->List(kProvider, "");
  ASSERT_TRUE(providers.ok());
  EXPECT_EQ(providers->size(), 2u);
}

TEST_P(StoreTest, ListAllPutsParentsFirst) {
  PutGithubTree();
  auto all = store_->ListAll();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].key, kGithub);
}

TEST_P(StoreTest, DeleteTreeCascades) {
  PutGithubTree();
  auto deleted = store_->DeleteTree(kGithub);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_EQ(*deleted, 3);
  EXPECT_FALSE(store_->Get(kConnection, kAlice).ok());
  EXPECT_FALSE(store_->GetTokens(kAlice).ok());
  EXPECT_FALSE(store_->GetTokens(kBob).ok());
}

TEST_P(StoreTest, DeleteTreeSparesKeysWithSamePrefix) {
  PutGithubTree();
  ASSERT_TRUE(store_->DeleteTree(kGithub).ok());
  EXPECT_TRUE(store_->Get(kProvider, "authorizationProviders/github-enterprise").ok());
}

TEST_P(StoreTest, DeleteTreeComparesKeysBytewise) {
  // '.' sorts just before '/' and '0' just after it, bytewise; a locale-aware collation would
  // order them differently and delete a neighbour.
  for (const char* key :
       {"p/github", "p/github.x", "p/github-x", "p/github0", "p/github/a", "p/github/a/b"}) {
    PutResource(Resource(kProvider, key, ""));
  }
  EXPECT_EQ(store_->DeleteTree("p/github").value(), 3);
  auto left = store_->ListAll();
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 3u);
  EXPECT_EQ((*left)[0].key, "p/github-x");
  EXPECT_EQ((*left)[1].key, "p/github.x");
  EXPECT_EQ((*left)[2].key, "p/github0");
}

TEST_P(StoreTest, ListAllOrdersKeysBytewise) {
  for (const char* key : {"p/b", "p/_", "p/B", "p/a"}) PutResource(Resource(kProvider, key, ""));
  auto all = store_->ListAll();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].key, "p/B");
  EXPECT_EQ((*all)[1].key, "p/_");
  EXPECT_EQ((*all)[2].key, "p/a");
  EXPECT_EQ((*all)[3].key, "p/b");
}

TEST_P(StoreTest, ListAllSortsScrambledInserts) {
  // Keys inserted in an order unrelated to theirs, with two kinds sharing some keys, so that
  // the records move along several cycles into place.
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back("p/" + std::to_string((i * 7919) % 200));
  for (const std::string& key : keys) {
    PutResource(Resource(kProvider, key, ""));
    if (key.ends_with('3')) PutResource(Resource(kConnection, key, ""));
  }
  auto all = store_->ListAll();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 220u);
  for (size_t i = 1; i < all->size(); ++i) {
    const auto& before = (*all)[i - 1];
    const auto& after = (*all)[i];
    EXPECT_TRUE(before.key < after.key || (before.key == after.key && before.kind < after.kind))
        << "record " << i << " (" << after.kind << " " << after.key << ") after " << before.kind
        << " " << before.key;
  }
}

TEST_P(StoreTest, DeleteTreeOfChildKeepsParent) {
  PutGithubTree();
  EXPECT_EQ(store_->DeleteTree(kAlice).value(), 1);
  EXPECT_TRUE(store_->Get(kProvider, kGithub).ok());
  EXPECT_TRUE(store_->GetTokens(kBob).ok());
  EXPECT_FALSE(store_->GetTokens(kAlice).ok());
}

TEST_P(StoreTest, DeleteTreeMissingIsZero) {
  EXPECT_EQ(store_->DeleteTree("authorizationProviders/none").value(), 0);
  EXPECT_FALSE(store_->DeleteTree("").ok());
}

TEST_P(StoreTest, TokensRoundTripBinary) {
  std::string blob("\x01\x00\xff sealed", 9);
  auto stored = store_->PutTokens(Tokens(kAlice, blob), std::nullopt);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->version, 1);
  auto read = store_->GetTokens(kAlice);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->sealed_tokens, blob);
  EXPECT_EQ(read->expires_at, 1'700'003'600);
}

TEST_P(StoreTest, TokenCasSucceedsOnExpectedVersion) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), 0).ok());
  auto second = store_->PutTokens(Tokens(kAlice, "v2"), 1);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(store_->GetTokens(kAlice).value().sealed_tokens, "v2");
}

TEST_P(StoreTest, TokenCasConflictsOnStaleVersion) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), 0).ok());
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v2"), 1).ok());

  auto stale = store_->PutTokens(Tokens(kAlice, "lost"), 1);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_NE(stale.error().message.find("has version 2, expected version 1"), std::string::npos);
  EXPECT_EQ(store_->GetTokens(kAlice).value().sealed_tokens, "v2");
}

TEST_P(StoreTest, TokenCasInsertConflictsWhenPresent) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), 0).ok());
  auto again = store_->PutTokens(Tokens(kAlice, "v1"), 0);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST_P(StoreTest, TokenCasConflictsWhenMissing) {
  auto missing = store_->PutTokens(Tokens(kAlice, "v1"), 3);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kConflict);
  EXPECT_NE(missing.error().message.find("has no record"), std::string::npos);
}

TEST_P(StoreTest, UnconditionalPutBumpsVersion) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), std::nullopt).ok());
  EXPECT_EQ(store_->PutTokens(Tokens(kAlice, "v2"), std::nullopt).value().version, 2);
}

TEST_P(StoreTest, DeleteTokensReportsRemoval) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), std::nullopt).ok());
  EXPECT_TRUE(store_->DeleteTokens(kAlice).value());
  EXPECT_FALSE(store_->DeleteTokens(kAlice).value());
  EXPECT_EQ(store_->GetTokens(kAlice).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, ListAllTokens) {
  PutGithubTree();
  auto tokens = store_->ListAllTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].connection_key, kAlice);
}

TEST_P(StoreTest, ListAllTokensSortsScrambledInserts) {
  for (int i = 0; i < 100; ++i) {
    const std::string key = "p/" + std::to_string((i * 37) % 100);
    ASSERT_TRUE(store_->PutTokens(Tokens(key, "sealed-" + key), std::nullopt).ok());
  }
  auto tokens = store_->ListAllTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 100u);
  for (size_t i = 1; i < tokens->size(); ++i) {
    EXPECT_LT((*tokens)[i - 1].connection_key, (*tokens)[i].connection_key) << "record " << i;
  }
  EXPECT_EQ(tokens->front().sealed_tokens, "sealed-p/0");
}

TEST_P(StoreTest, AdminKeyLifecycle) {
  AdminKeyRecord key{"ops", "hash-1", "admin", 1'700'000'000};
  ASSERT_TRUE(store_->PutAdminKey(key).ok());
  auto found = store_->FindAdminKeyByHash("hash-1");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, "ops");
  EXPECT_EQ(found->role, "admin");
  EXPECT_EQ(store_->ListAdminKeys().value().size(), 1u);
  EXPECT_TRUE(store_->DeleteAdminKey("ops").value());
  EXPECT_FALSE(store_->DeleteAdminKey("ops").value());
  EXPECT_EQ(store_->FindAdminKeyByHash("hash-1").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, AdminKeyRejectsDuplicates) {
  ASSERT_TRUE(store_->PutAdminKey({"ops", "hash-1", "admin", 1}).ok());
  auto same_id = store_->PutAdminKey({"ops", "hash-2", "admin", 1});
  ASSERT_FALSE(same_id.ok());
  EXPECT_EQ(same_id.error().code, ErrorCode::kAlreadyExists);
  auto same_hash = store_->PutAdminKey({"other", "hash-1", "reader", 1});
  ASSERT_FALSE(same_hash.ok());
  EXPECT_EQ(same_hash.error().code, ErrorCode::kAlreadyExists);
}

TEST_P(StoreTest, PersistsAcrossReopen) {
  PutGithubTree();
  ASSERT_TRUE(store_->PutAdminKey({"ops", "hash-1", "admin", 1}).ok());
  store_.reset();

  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->ListAll().value().size(), 4u);
  EXPECT_EQ(store_->GetTokens(kAlice).value().sealed_tokens, "sealed-a");
  EXPECT_TRUE(store_->FindAdminKeyByHash("hash-1").ok());
  EXPECT_EQ(store_->Put(Resource(kProvider, kGithub, "")).value().version, 2);
}

TEST_P(StoreTest, ApplyBatchStoresEveryWrite) {
  PutResource(Resource(kProvider, kGithub, ""));
  WriteBatch batch;
  batch.resources = {Resource(kProvider, kGithub, ""), Resource(kConnection, kAlice, kGithub)};
  batch.tokens = {Tokens(kAlice, "sealed-a")};
  auto stored = store_->ApplyBatch(batch);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_EQ(stored->resources.size(), 2u);
  EXPECT_EQ(stored->resources[0].version, 2);
  EXPECT_EQ(stored->resources[1].version, 1);
  ASSERT_EQ(stored->tokens.size(), 1u);
  EXPECT_EQ(stored->tokens[0].version, 1);

  EXPECT_EQ(store_->Get(kProvider, kGithub).value().version, 2);
  EXPECT_TRUE(store_->Get(kConnection, kAlice).ok());
  EXPECT_EQ(store_->GetTokens(kAlice).value().sealed_tokens, "sealed-a");
}

TEST_P(StoreTest, ApplyBatchFailingOnLastWriteStoresNothing) {
  PutResource(Resource(kProvider, kGithub, ""));
  RejectTokenInsert(kBob);
  WriteBatch batch;
  batch.resources = {Resource(kProvider, kGithub, "", R"({"replaced":true})"),
                     Resource(kConnection, kAlice, kGithub), Resource(kConnection, kBob, kGithub)};
  batch.tokens = {Tokens(kAlice, "sealed-a"), Tokens(kBob, "sealed-b")};
  auto stored = store_->ApplyBatch(batch);
  ASSERT_FALSE(stored.ok());
  EXPECT_NE(stored.error().message.find("rejected by the test trigger"), std::string::npos)
      << stored.error().message;

  auto provider = store_->Get(kProvider, kGithub);
  ASSERT_TRUE(provider.ok());
  EXPECT_EQ(provider->version, 1);
  EXPECT_EQ(provider->body_json, "{}");
  EXPECT_EQ(store_->Get(kConnection, kAlice).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Get(kConnection, kBob).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetTokens(kAlice).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace credgate::store
