// Master key rotation over a real SQLite store: seal under k1, rewrap under k2, open with k2
// alone.
#include "management/rewrap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>

#include "crypto/aead.h"
#include "management/persistence.h"
#include "store/sqlite_store.h"

namespace credgate::management {
namespace {

constexpr char kConnection[] = "authorizationProviders/p/authorizations/a";
constexpr char kProvider[] = "authorizationProviders/p";

crypto::MasterKey Key(std::string id, char fill) {
  return crypto::MasterKey{std::move(id), Secret(std::string(32, fill))};
}

crypto::Keyring MakeKeyring(std::vector<crypto::MasterKey> keys) {
  auto keyring = crypto::Keyring::Create(std::move(keys));
  EXPECT_TRUE(keyring.ok());
  return std::move(*keyring);
}

class RewrapTest : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("credgate-rewrap-" + std::to_string(::getpid()) + "-" +
               testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    auto store = store::SqliteStore::Open({.path = (folder_ / "credgate.db").string()});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  // Stores a token record and a provider with a sealed client secret, both under `keyring`.
  void StoreSealed(const crypto::Keyring& keyring) {
    auto tokens = keyring.Seal(Secret("tokens-plaintext"), kConnection);
    ASSERT_TRUE(tokens.ok());
    store::TokenRecord record{kConnection, *tokens, 0, 0, 0};
    ASSERT_TRUE(store_->PutTokens(record, std::nullopt).ok());

    auto secret = keyring.Seal(Secret("client-secret"), kProvider);
    ASSERT_TRUE(secret.ok());
    boost::json::object body;
    body["properties"] = boost::json::object();
    body[kSealedSecretMember] = crypto::SealedToBase64(*secret);
    ASSERT_TRUE(store_->Put({"provider", kProvider, "", boost::json::serialize(body), 0, 0}).ok());
  }

  std::string OpenTokens(const crypto::Keyring& keyring) {
    auto record = store_->GetTokens(kConnection);
    EXPECT_TRUE(record.ok());
    auto opened = keyring.Open(record->sealed_tokens, kConnection);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? std::string(opened->Expose()) : "";
  }

  std::string OpenSecret(const crypto::Keyring& keyring) {
    auto record = store_->Get("provider", kProvider);
    EXPECT_TRUE(record.ok());
    auto body = boost::json::parse(record->body_json).as_object();
    auto blob = crypto::SealedFromBase64(body[kSealedSecretMember].as_string());
    EXPECT_TRUE(blob.ok());
    auto opened = keyring.Open(*blob, kProvider);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? std::string(opened->Expose()) : "";
  }

  std::filesystem::path folder_;
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(RewrapTest, RotationDropsOldKey) {
  StoreSealed(MakeKeyring({Key("k1", 'a')}));

  auto counts = RewrapAll(*store_, MakeKeyring({Key("k1", 'a'), Key("k2", 'b')}));
  ASSERT_TRUE(counts.ok()) << counts.error().message;
  EXPECT_EQ(counts->rewrapped, 2);
  EXPECT_EQ(counts->failed, 0);

  crypto::Keyring only_new = MakeKeyring({Key("k2", 'b')});
  EXPECT_EQ(OpenTokens(only_new), "tokens-plaintext");
  EXPECT_EQ(OpenSecret(only_new), "client-secret");
}

TEST_F(RewrapTest, SecondRunChangesNothing) {
  StoreSealed(MakeKeyring({Key("k1", 'a')}));
  crypto::Keyring rotated = MakeKeyring({Key("k1", 'a'), Key("k2", 'b')});
  ASSERT_TRUE(RewrapAll(*store_, rotated).ok());

  auto again = RewrapAll(*store_, rotated);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rewrapped, 0);
  EXPECT_EQ(again->already_current, 2);
}

TEST_F(RewrapTest, KeepsTokenVersion) {
  StoreSealed(MakeKeyring({Key("k1", 'a')}));
  int64_t before = store_->GetTokens(kConnection)->version;
  ASSERT_TRUE(RewrapAll(*store_, MakeKeyring({Key("k1", 'a'), Key("k2", 'b')})).ok());
  EXPECT_EQ(store_->GetTokens(kConnection)->version, before);
}

TEST_F(RewrapTest, MissingKeyCountsAsFailed) {
  StoreSealed(MakeKeyring({Key("k1", 'a')}));
  auto counts = RewrapAll(*store_, MakeKeyring({Key("k3", 'c')}));
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->failed, 2);
  EXPECT_EQ(counts->rewrapped, 0);
}

TEST_F(RewrapTest, DeletedRecordCountsAsChanged) {
  auto outcome = RewrapTokenRecord(*store_, MakeKeyring({Key("k2", 'b')}), kConnection);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, RewrapOutcome::kChangedConcurrently);
}

}  // namespace
}  // namespace credgate::management
