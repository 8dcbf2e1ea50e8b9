// StoreTokenPersistence drops writes for connections that are no longer configured, so that a
// refresh that finishes after a DELETE cannot store the connection's tokens again.
// LoadTokensFromStore puts stored tokens into the token manager at start-up.
#include "management/token_persistence.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "../credentials/fake_http_client.h"
#include "../credentials/run_coroutine.h"
#include "credentials/token_client.h"
#include "crypto/keyring.h"
#include "runtime/state.h"
#include "store/async_store.h"
#include "store/sqlite_store.h"

namespace credgate::management {
namespace {

using credentials::testing::RunCoroutine;

constexpr char kConnection[] = "p/a";
constexpr char kStoreKey[] = "authorizationProviders/p/authorizations/a";

class TokenPersistenceTest : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("credgate-token-persistence-" + std::to_string(::getpid()) + "-" +
               testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    auto sqlite = store::SqliteStore::Open({.path = (folder_ / "credgate.db").string()});
    ASSERT_TRUE(sqlite.ok()) << sqlite.error().message;
    store_ = std::make_unique<store::AsyncStore>(std::move(*sqlite));
    auto keyring = crypto::Keyring::Create({crypto::MasterKey{"k1", Secret(std::string(32, 'a'))}});
    ASSERT_TRUE(keyring.ok());
    keyring_.emplace(std::move(*keyring));
    services_.clock = &clock_;
    services_.config = &config_;
    services_.statuses = &statuses_;
    services_.store = store_.get();
    services_.keyring = &*keyring_;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(folder_);
  }

  void AddConnection() {
    Status added = config_.Update([](runtime::Snapshot& next) {
      next.connections[kConnection] = std::make_shared<runtime::ConnectionEntry>();
      return OkStatus();
    });
    ASSERT_TRUE(added.ok());
  }

  Result<int64_t> Save() {
    credentials::TokenSet tokens;
    tokens.access_token = Secret("access-token-value");
    tokens.token_type = "Bearer";
    return RunCoroutine(persistence_.SaveTokens(kConnection, tokens));
  }

  bool TokensStored() { return store_->blocking_store().GetTokens(kStoreKey).ok(); }

  std::filesystem::path folder_;
  FakeClock clock_;
  runtime::ConfigState config_;
  runtime::ConnectionStatusTable statuses_;
  std::unique_ptr<store::AsyncStore> store_;
  std::optional<crypto::Keyring> keyring_;
  runtime::Services services_;
  StoreTokenPersistence persistence_{services_};
};

// A token manager beside the persistence, as `credgate serve` has, for the start-up load.
class TokenLoadTest : public TokenPersistenceTest {
 protected:
  void SetUp() override {
    TokenPersistenceTest::SetUp();
    services_.tokens = &tokens_;
    statuses_.ReadConnectedFromTokens(&tokens_);
  }

  void RemoveConnection() {
    Status removed = config_.Update([](runtime::Snapshot& next) {
      next.connections.erase(kConnection);
      return OkStatus();
    });
    ASSERT_TRUE(removed.ok());
  }

  credentials::testing::FakeHttpClient http_;
  credentials::TokenClient client_{http_, clock_};
  credentials::TokenManager tokens_{client_, persistence_, clock_};
};

TEST_F(TokenPersistenceTest, StoresTokensOfConfiguredConnection) {
  AddConnection();
  ASSERT_TRUE(Save().ok());
  EXPECT_TRUE(TokensStored());
}

TEST_F(TokenPersistenceTest, DropsTokensOfDeletedConnection) {
  Result<int64_t> saved = Save();
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(TokensStored());
  auto state = store_->blocking_store().Get("connectionState", std::string(kStoreKey) + "/state");
  EXPECT_FALSE(state.ok());
}

TEST_F(TokenLoadTest, LoadsStoredTokens) {
  AddConnection();
  ASSERT_TRUE(Save().ok());
  ASSERT_TRUE(LoadTokensFromStore(store_->blocking_store(), services_).ok());
  EXPECT_EQ(tokens_.TokenVersion(kConnection), 1);
  EXPECT_TRUE(statuses_.Get(kConnection).connected);
  EXPECT_FALSE(statuses_.GetStored(kConnection).has_value());  // Read from the tokens.
}

TEST_F(TokenLoadTest, UnreadableTokensMarkConnection) {
  AddConnection();
  ASSERT_TRUE(store_->blocking_store()
                  .PutTokens(store::TokenRecord{kStoreKey, "not a sealed blob", 0, 0, 0},
                             std::nullopt)
                  .ok());
  ASSERT_TRUE(LoadTokensFromStore(store_->blocking_store(), services_).ok());
  EXPECT_FALSE(tokens_.TokenVersion(kConnection).has_value());
  EXPECT_EQ(statuses_.Get(kConnection).error_code, "TokensUnreadable");
}

TEST_F(TokenLoadTest, SkipsTokensOfRemovedConnection) {
  AddConnection();
  ASSERT_TRUE(Save().ok());
  RemoveConnection();
  ASSERT_TRUE(LoadTokensFromStore(store_->blocking_store(), services_).ok());
  EXPECT_FALSE(tokens_.TokenVersion(kConnection).has_value());
}

TEST_F(TokenLoadTest, StoredReloginRequiredStays) {
  AddConnection();
  ASSERT_TRUE(Save().ok());
  statuses_.Set(kConnection, ConnectionState{false, "ReloginRequired", "sign in again"});
  ASSERT_TRUE(LoadTokensFromStore(store_->blocking_store(), services_).ok());
  EXPECT_EQ(tokens_.TokenVersion(kConnection), 1);
  EXPECT_EQ(statuses_.Get(kConnection).error_code, "ReloginRequired");
  auto state = tokens_.GetState(kConnection);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->error.code, "ReloginRequired");
}

}  // namespace
}  // namespace credgate::management
