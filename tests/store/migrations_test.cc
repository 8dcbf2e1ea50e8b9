#include "store/migrations.h"

#include <gtest/gtest.h>

#include "store_fixture.h"

namespace credgate::store {
namespace {

class MigrationsTest : public StoreFixture {
 protected:
  // Rows of schema_migrations as "version:applied_at" lines.
  std::string AppliedMigrations() {
    auto database = SqliteDatabase::Open(path_, std::chrono::milliseconds(1000));
    EXPECT_TRUE(database.ok());
    auto query = (*database)->Prepare(
        "SELECT version, applied_at FROM schema_migrations ORDER BY version", "test");
    EXPECT_TRUE(query.ok());
    std::string rows;
    while ((*query)->Step("test").value()) {
      rows += std::to_string((*query)->ColumnInt64(0)) + ":" +
              std::to_string((*query)->ColumnInt64(1)) + "\n";
    }
    return rows;
  }
};

TEST_F(MigrationsTest, FreshFileGetsLatestVersion) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), static_cast<int>(SqliteMigrations().size()));
}

TEST_F(MigrationsTest, ReopenAppliesNothing) {
  OpenStore().reset();
  std::string before = AppliedMigrations();
  ASSERT_FALSE(before.empty());

  OpenStore().reset();
  EXPECT_EQ(AppliedMigrations(), before);
}

TEST_F(MigrationsTest, UpgradesOlderFile) {
  auto old_store = OpenStore();
  ASSERT_TRUE(old_store->Put(Resource("provider", "providers/a", "")).ok());
  old_store.reset();

  std::vector<Migration> newer(SqliteMigrations().begin(), SqliteMigrations().end());
  newer.push_back({static_cast<int>(newer.size()) + 1, "test column",
                   "ALTER TABLE resources ADD COLUMN etag TEXT NOT NULL DEFAULT ''"});
  auto store = OpenStore(newer);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), static_cast<int>(newer.size()));
  EXPECT_TRUE(store->Get("provider", "providers/a").ok());
}

TEST_F(MigrationsTest, UpgradesFromVersionOneSchema) {
  // Version 1 is the schema that credgate builds without refresh leases wrote.
  auto old_store = OpenStore(SqliteMigrations().first(1));
  ASSERT_NE(old_store, nullptr);
  ASSERT_EQ(old_store->schema_version(), 1);
  ASSERT_TRUE(old_store->Put(Resource("provider", "providers/a", "")).ok());
  auto old_tokens = old_store->PutTokens(Tokens("providers/a/connections/x", "sealed"), 0);
  ASSERT_TRUE(old_tokens.ok());
  old_store.reset();

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), static_cast<int>(SqliteMigrations().size()));
  EXPECT_TRUE(store->Get("provider", "providers/a").ok());
  auto tokens = store->GetTokens("providers/a/connections/x");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->sealed_tokens, "sealed");
  EXPECT_EQ(tokens->version, old_tokens->version);
  auto lease = store->AcquireRefreshLease("providers/a/connections/x", tokens->version,
                                          "gateway-a", 1'000, 30'000);
  ASSERT_TRUE(lease.ok()) << lease.error().message;
  EXPECT_EQ(lease->outcome, RefreshLease::Outcome::kAcquired);
  EXPECT_FALSE(lease->unfinished_attempt);
}

TEST_F(MigrationsTest, FailedMigrationRollsBack) {
  OpenStore().reset();
  std::vector<Migration> broken(SqliteMigrations().begin(), SqliteMigrations().end());
  broken.push_back({static_cast<int>(broken.size()) + 1, "broken",
                    "CREATE TABLE half (x INTEGER); THIS IS NOT SQL"});
  auto store = SqliteStore::Open({.path = path_, .migrations = broken});
  ASSERT_FALSE(store.ok());

  // The table the broken script created first must be gone, and the version unchanged.
  EXPECT_EQ(OpenStore()->schema_version(), static_cast<int>(SqliteMigrations().size()));
  auto retry = SqliteStore::Open({.path = path_, .migrations = broken});
  ASSERT_FALSE(retry.ok());
  EXPECT_EQ(retry.error().message.find("already exists"), std::string::npos);
}

TEST_F(MigrationsTest, RejectsNewerFile) {
  std::vector<Migration> newer(SqliteMigrations().begin(), SqliteMigrations().end());
  newer.push_back({static_cast<int>(newer.size()) + 1, "future", "CREATE TABLE future (x)"});
  OpenStore(newer).reset();

  auto store = SqliteStore::Open({.path = path_});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(store.error().message.find("run a newer credgate"), std::string::npos);
}

TEST_F(MigrationsTest, RejectsGapInVersions) {
  const Migration gap[] = {{1, "one", "CREATE TABLE one (x)"}, {3, "three", "CREATE TABLE t (x)"}};
  auto store = SqliteStore::Open({.path = path_, .migrations = gap});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace credgate::store
