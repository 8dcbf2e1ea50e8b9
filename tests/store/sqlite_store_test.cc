#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "crypto/keyring.h"
#include "store_fixture.h"

namespace credgate::store {
namespace {

constexpr char kProvider[] = "authorizationProvider";
constexpr char kConnection[] = "authorization";
constexpr char kGithub[] = "authorizationProviders/github";
constexpr char kAlice[] = "authorizationProviders/github/authorizations/alice";
constexpr char kBob[] = "authorizationProviders/github/authorizations/bob";

class SqliteStoreTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
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

  std::string FileBytes() {
    std::ifstream file(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
  }

  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, PutThenGet) {
  PutResource(Resource(kProvider, kGithub, "", R"({"clientId":"abc"})"));
  auto record = store_->Get(kProvider, kGithub);
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->body_json, R"({"clientId":"abc"})");
  EXPECT_EQ(record->version, 1);
  EXPECT_EQ(record->updated_at, 1'700'000'000);
}

TEST_F(SqliteStoreTest, PutBumpsVersion) {
  ASSERT_EQ(store_->Put(Resource(kProvider, kGithub, "")).value().version, 1);
  auto second = store_->Put(Resource(kProvider, kGithub, "", R"({"v":2})"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(store_->Get(kProvider, kGithub).value().body_json, R"({"v":2})");
}

TEST_F(SqliteStoreTest, GetMissingIsNotFound) {
  auto record = store_->Get(kProvider, "authorizationProviders/none");
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.error().code, ErrorCode::kNotFound);
  EXPECT_NE(record.error().message.find("authorizationProviders/none"), std::string::npos);
}

TEST_F(SqliteStoreTest, GetChecksKind) {
  PutResource(Resource(kProvider, kGithub, ""));
  EXPECT_FALSE(store_->Get(kConnection, kGithub).ok());
}

TEST_F(SqliteStoreTest, PutRejectsKeyOutsideParent) {
  auto stored = store_->Put(Resource(kConnection, "elsewhere/alice", kGithub));
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, PutRejectsEmptyKey) {
  EXPECT_FALSE(store_->Put(Resource(kProvider, "", "")).ok());
}

TEST_F(SqliteStoreTest, ListByParent) {
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

TEST_F(SqliteStoreTest, ListAllPutsParentsFirst) {
  PutGithubTree();
  auto all = store_->ListAll();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].key, kGithub);
}

TEST_F(SqliteStoreTest, DeleteTreeCascades) {
  PutGithubTree();
  auto deleted = store_->DeleteTree(kGithub);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_EQ(*deleted, 3);
  EXPECT_FALSE(store_->Get(kConnection, kAlice).ok());
  EXPECT_FALSE(store_->GetTokens(kAlice).ok());
  EXPECT_FALSE(store_->GetTokens(kBob).ok());
}

TEST_F(SqliteStoreTest, DeleteTreeSparesKeysWithSamePrefix) {
  PutGithubTree();
  ASSERT_TRUE(store_->DeleteTree(kGithub).ok());
  EXPECT_TRUE(store_->Get(kProvider, "authorizationProviders/github-enterprise").ok());
}

TEST_F(SqliteStoreTest, DeleteTreeOfChildKeepsParent) {
  PutGithubTree();
  EXPECT_EQ(store_->DeleteTree(kAlice).value(), 1);
  EXPECT_TRUE(store_->Get(kProvider, kGithub).ok());
  EXPECT_TRUE(store_->GetTokens(kBob).ok());
  EXPECT_FALSE(store_->GetTokens(kAlice).ok());
}

TEST_F(SqliteStoreTest, DeleteTreeMissingIsZero) {
  EXPECT_EQ(store_->DeleteTree("authorizationProviders/none").value(), 0);
  EXPECT_FALSE(store_->DeleteTree("").ok());
}

TEST_F(SqliteStoreTest, TokensRoundTripBinary) {
  std::string blob("\x01\x00\xff sealed", 9);
  auto stored = store_->PutTokens(Tokens(kAlice, blob), std::nullopt);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->version, 1);
  auto read = store_->GetTokens(kAlice);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->sealed_tokens, blob);
  EXPECT_EQ(read->expires_at, 1'700'003'600);
}

TEST_F(SqliteStoreTest, TokenCasSucceedsOnExpectedVersion) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), 0).ok());
  auto second = store_->PutTokens(Tokens(kAlice, "v2"), 1);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(store_->GetTokens(kAlice).value().sealed_tokens, "v2");
}

TEST_F(SqliteStoreTest, TokenCasConflictsOnStaleVersion) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), 0).ok());
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v2"), 1).ok());

  auto stale = store_->PutTokens(Tokens(kAlice, "lost"), 1);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_NE(stale.error().message.find("has version 2, expected version 1"), std::string::npos);
  EXPECT_EQ(store_->GetTokens(kAlice).value().sealed_tokens, "v2");
}

TEST_F(SqliteStoreTest, TokenCasInsertConflictsWhenPresent) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), 0).ok());
  auto again = store_->PutTokens(Tokens(kAlice, "v1"), 0);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST_F(SqliteStoreTest, TokenCasConflictsWhenMissing) {
  auto missing = store_->PutTokens(Tokens(kAlice, "v1"), 3);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kConflict);
  EXPECT_NE(missing.error().message.find("has no record"), std::string::npos);
}

TEST_F(SqliteStoreTest, UnconditionalPutBumpsVersion) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), std::nullopt).ok());
  EXPECT_EQ(store_->PutTokens(Tokens(kAlice, "v2"), std::nullopt).value().version, 2);
}

TEST_F(SqliteStoreTest, DeleteTokensReportsRemoval) {
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "v1"), std::nullopt).ok());
  EXPECT_TRUE(store_->DeleteTokens(kAlice).value());
  EXPECT_FALSE(store_->DeleteTokens(kAlice).value());
  EXPECT_EQ(store_->GetTokens(kAlice).error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, ListAllTokens) {
  PutGithubTree();
  auto tokens = store_->ListAllTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].connection_key, kAlice);
}

TEST_F(SqliteStoreTest, AdminKeyLifecycle) {
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

TEST_F(SqliteStoreTest, AdminKeyRejectsDuplicates) {
  ASSERT_TRUE(store_->PutAdminKey({"ops", "hash-1", "admin", 1}).ok());
  auto same_id = store_->PutAdminKey({"ops", "hash-2", "admin", 1});
  ASSERT_FALSE(same_id.ok());
  EXPECT_EQ(same_id.error().code, ErrorCode::kAlreadyExists);
  auto same_hash = store_->PutAdminKey({"other", "hash-1", "reader", 1});
  ASSERT_FALSE(same_hash.ok());
  EXPECT_EQ(same_hash.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(SqliteStoreTest, PersistsAcrossReopen) {
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

TEST_F(SqliteStoreTest, FilesHaveMode0600) {
  PutResource(Resource(kProvider, kGithub, ""));
  for (std::string suffix : {"", "-wal", "-shm"}) {
    struct stat info;
    ASSERT_EQ(::stat((path_ + suffix).c_str(), &info), 0) << suffix;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << suffix;
  }
}

TEST_F(SqliteStoreTest, RejectsWorldReadableFile) {
  store_.reset();
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto reopened = SqliteStore::Open({.path = path_});
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(reopened.error().message.find("chmod 600"), std::string::npos);
}

TEST_F(SqliteStoreTest, MissingFolderIsUnavailable) {
  auto store = SqliteStore::Open({.path = (folder_ / "absent" / "credgate.db").string()});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
}

TEST_F(SqliteStoreTest, FileHoldsNoPlaintext) {
  constexpr std::string_view kRefreshToken = "refresh-token-plaintext-7f3a9c";
  auto keyring = crypto::Keyring::Create({{"k1", Secret(std::string(32, 'k'))}});
  ASSERT_TRUE(keyring.ok());
  auto sealed = keyring->Seal(Secret(std::string(kRefreshToken)), kAlice);
  ASSERT_TRUE(sealed.ok());
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, *sealed), std::nullopt).ok());
  store_.reset();  // Closing checkpoints the WAL into the main file.

  std::string bytes = FileBytes();
  ASSERT_NE(bytes.find(kAlice), std::string::npos);  // The record itself reached the file.
  EXPECT_EQ(bytes.find(kRefreshToken), std::string::npos);

  store_ = OpenStore();
  auto opened = keyring->Open(store_->GetTokens(kAlice).value().sealed_tokens, kAlice);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->Equals(kRefreshToken));
}

}  // namespace
}  // namespace credgate::store
