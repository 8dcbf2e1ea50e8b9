// Deleted key material leaves the SQLite files, and the rotation calls that replace sealed bytes
// in place.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "store_fixture.h"

namespace credgate::store {
namespace {

constexpr char kConnection[] = "authorizationProviders/p/authorizations/a";

class SecureDeleteTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  // Returns whether `needle` occurs in the database file or its WAL.
  bool FilesContain(const std::string& needle) const {
    for (const std::string& path : {path_, path_ + "-wal"}) {
      std::ifstream file(path, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      if (bytes.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  // A recognisable stand-in for a sealed blob, `size` bytes long, so that small blobs stay in
  // the table's page and large ones go to overflow pages.
  static std::string Blob(char fill, size_t size) {
    return "SEALED-" + std::string(size, fill) + "-END";
  }

  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SecureDeleteTest, DeleteTreeRemovesSealedTokens) {
  const std::string small = Blob('s', 200);
  const std::string large = Blob('l', 20'000);
  ASSERT_TRUE(store_->Put(Resource("authorizationProvider", "authorizationProviders/p", "")).ok());
  ASSERT_TRUE(store_->Put(Resource("authorization", kConnection, "authorizationProviders/p")).ok());
  ASSERT_TRUE(store_->PutTokens(Tokens(kConnection, small), std::nullopt).ok());
  ASSERT_TRUE(store_->PutTokens(Tokens(std::string(kConnection) + "2", large), std::nullopt).ok());
  ASSERT_TRUE(FilesContain(small));

  ASSERT_TRUE(store_->DeleteTree("authorizationProviders/p").ok());
  EXPECT_FALSE(FilesContain(small));
  EXPECT_FALSE(FilesContain(large.substr(0, 4000)));
}

TEST_F(SecureDeleteTest, DeleteTreeRemovesSealedSecretInBody) {
  const std::string secret = Blob('c', 300);
  ASSERT_TRUE(store_
                  ->Put(Resource("authorizationProvider", "authorizationProviders/p", "",
                                 "{\"sealedClientSecret\":\"" + secret + "\"}"))
                  .ok());
  ASSERT_TRUE(store_->DeleteTree("authorizationProviders/p").ok());
  EXPECT_FALSE(FilesContain(secret));
}

TEST_F(SecureDeleteTest, DeleteTokensRemovesBlob) {
  const std::string blob = Blob('t', 500);
  ASSERT_TRUE(store_->PutTokens(Tokens(kConnection, blob), std::nullopt).ok());
  auto deleted = store_->DeleteTokens(kConnection);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(FilesContain(blob));
}

TEST_F(SecureDeleteTest, DeleteAdminKeyRemovesHash) {
  const std::string hash(64, 'e');
  ASSERT_TRUE(store_->PutAdminKey({"ops", hash, "operator", 1}).ok());
  ASSERT_TRUE(store_->DeleteAdminKey("ops").ok());
  EXPECT_FALSE(FilesContain(hash));
}

TEST_F(SecureDeleteTest, ReplaceSealedTokensKeepsVersion) {
  auto stored = store_->PutTokens(Tokens(kConnection, "old"), std::nullopt);
  ASSERT_TRUE(stored.ok());
  auto replaced = store_->ReplaceSealedTokens(kConnection, stored->version, "new");
  ASSERT_TRUE(replaced.ok());
  EXPECT_TRUE(*replaced);
  auto read = store_->GetTokens(kConnection);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->sealed_tokens, "new");
  EXPECT_EQ(read->version, stored->version);
  EXPECT_EQ(read->expires_at, stored->expires_at);
}

TEST_F(SecureDeleteTest, ReplaceSealedTokensChecksVersion) {
  auto stored = store_->PutTokens(Tokens(kConnection, "old"), std::nullopt);
  ASSERT_TRUE(stored.ok());
  auto replaced = store_->ReplaceSealedTokens(kConnection, stored->version + 1, "new");
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(*replaced);
  EXPECT_EQ(store_->GetTokens(kConnection)->sealed_tokens, "old");
}

TEST_F(SecureDeleteTest, ReplaceSealedTokensOfMissingRecord) {
  auto replaced = store_->ReplaceSealedTokens(kConnection, 1, "new");
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(*replaced);
}

TEST_F(SecureDeleteTest, ReplaceSealedTokensKeepsLease) {
  auto stored = store_->PutTokens(Tokens(kConnection, "old"), std::nullopt);
  ASSERT_TRUE(stored.ok());
  auto lease = store_->AcquireRefreshLease(kConnection, stored->version, "a", 1000, 30'000);
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(lease->outcome, RefreshLease::Outcome::kAcquired);
  ASSERT_TRUE(store_->ReplaceSealedTokens(kConnection, stored->version, "new").ok());

  auto other = store_->AcquireRefreshLease(kConnection, stored->version, "b", 2000, 30'000);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->outcome, RefreshLease::Outcome::kHeld);
  TokenRecord refreshed = Tokens(kConnection, "refreshed");
  EXPECT_TRUE(store_->CommitRefresh(refreshed, stored->version).ok());
}

TEST_F(SecureDeleteTest, ReplaceResourceBodyKeepsVersion) {
  auto stored =
      store_->Put(Resource("authorizationProvider", "authorizationProviders/p", "", "{\"v\":1}"));
  ASSERT_TRUE(stored.ok());
  auto replaced = store_->ReplaceResourceBody("authorizationProvider", "authorizationProviders/p",
                                              stored->version, "{\"v\":2}");
  ASSERT_TRUE(replaced.ok());
  EXPECT_TRUE(*replaced);
  auto read = store_->Get("authorizationProvider", "authorizationProviders/p");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->body_json, "{\"v\":2}");
  EXPECT_EQ(read->version, stored->version);
}

TEST_F(SecureDeleteTest, ReplaceResourceBodyChecksVersion) {
  auto stored = store_->Put(Resource("authorizationProvider", "authorizationProviders/p", ""));
  ASSERT_TRUE(stored.ok());
  auto replaced = store_->ReplaceResourceBody("authorizationProvider", "authorizationProviders/p",
                                              stored->version + 1, "{\"v\":2}");
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(*replaced);
}

}  // namespace
}  // namespace credgate::store
