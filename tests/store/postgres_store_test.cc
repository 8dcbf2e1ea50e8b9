// What only PostgresStore does: schema migrations under an advisory lock, the connection pool,
// recovery from lost connections, and error messages without the URL's password.
#include "store/postgres_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <latch>
#include <thread>

#include "store_backend_fixture.h"
#include "store_fixture.h"

namespace credgate::store {
namespace {

using std::chrono::milliseconds;

constexpr char kProvider[] = "authorizationProvider";
constexpr char kConnection[] = "authorization";
constexpr char kGithub[] = "authorizationProviders/github";
constexpr char kAlice[] = "authorizationProviders/github/authorizations/alice";

class PostgresStoreTest : public StoreBackendTest {
 protected:
  std::unique_ptr<PostgresStore> Open(PostgresStoreOptions options) {
    auto store = PostgresStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Returns the versions in this test's schema_migrations, each followed by a space: "1 2 3 4 ".
  std::string AppliedMigrations() {
    auto admin = ConnectAdmin();
    auto rows = admin->Execute("SELECT version::BIGINT FROM " + admin->QuoteIdentifier(schema_) +
                                   ".schema_migrations ORDER BY version",
                               "test");
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    std::string versions;
    for (int row = 0; rows.ok() && row < rows->rows(); ++row) {
      versions += std::to_string(rows->Int64(row, 0)) + " ";
    }
    return versions;
  }

  // Waits up to five seconds until a backend of this test's store waits for a lock.
  bool WaitForStoreToBlock() {
    auto admin = ConnectAdmin();
    const PgParam params[] = {PgParam::Text(schema_)};
    for (int i = 0; i < 500; ++i) {
      auto waiting = admin->Execute(
          "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
          "AND wait_event_type = 'Lock'",
          params, "test");
      if (waiting.ok() && waiting->Int64(0, 0) > 0) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }

  std::string Table(std::string_view name) { return "\"" + schema_ + "\"." + std::string(name); }
};

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresStoreTest, ::testing::Values(StoreBackend::kPostgres),
                         StoreBackendName);

TEST_P(PostgresStoreTest, FreshSchemaGetsLatestVersion) {
  auto store = Open(PostgresOptions());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), static_cast<int>(PostgresMigrations().size()));
  // Both stores number the same schema alike.
  EXPECT_EQ(store->schema_version(), static_cast<int>(SqliteMigrations().size()));
  EXPECT_EQ(AppliedMigrations(), "1 2 3 4 ");
}

TEST_P(PostgresStoreTest, ReopenAppliesNothing) {
  Open(PostgresOptions()).reset();
  Open(PostgresOptions()).reset();
  EXPECT_EQ(AppliedMigrations(), "1 2 3 4 ");
}

TEST_P(PostgresStoreTest, ConcurrentOpensMigrateOnce) {
  constexpr int kGateways = 4;
  std::latch start(kGateways);
  std::vector<std::future<Result<std::unique_ptr<PostgresStore>>>> opened;
  for (int i = 0; i < kGateways; ++i) {
    opened.push_back(std::async(std::launch::async, [&] {
      start.arrive_and_wait();
      return PostgresStore::Open(PostgresOptions());
    }));
  }
  for (auto& store : opened) {
    auto result = store.get();
    EXPECT_TRUE(result.ok()) << result.error().message;
  }
  EXPECT_EQ(AppliedMigrations(), "1 2 3 4 ");
}

TEST_P(PostgresStoreTest, OpenWaitsForMigrationLock) {
  auto admin = ConnectAdmin();
  const std::string key = std::to_string(kMigrationLockKey);
  ASSERT_TRUE(admin->ExecuteScript("SELECT pg_advisory_lock(" + key + ")", "test").ok());
  auto opened =
      std::async(std::launch::async, [&] { return PostgresStore::Open(PostgresOptions()); });
  EXPECT_EQ(opened.wait_for(milliseconds(300)), std::future_status::timeout);

  ASSERT_TRUE(admin->ExecuteScript("SELECT pg_advisory_unlock(" + key + ")", "test").ok());
  auto store = opened.get();
  EXPECT_TRUE(store.ok()) << store.error().message;
}

// The advisory lock makes each append commit before the next one takes an id, so ids become
// visible in id order (EventStoreTest.ConcurrentAppendsAreSeenInIdOrder runs the race itself).
TEST_P(PostgresStoreTest, AppendEventWaitsForEventLock) {
  auto store = Open(PostgresOptions());
  ASSERT_NE(store, nullptr);
  auto admin = ConnectAdmin();
  const std::string key = std::to_string(kEventLockKey);
  ASSERT_TRUE(admin->ExecuteScript("SELECT pg_advisory_lock(" + key + ")", "test").ok());
  auto appended = std::async(std::launch::async, [&] {
    return store->AppendEvent(R"({"n":1})", 1000, 100, std::vector<std::string>{});
  });
  EXPECT_EQ(appended.wait_for(milliseconds(300)), std::future_status::timeout);

  ASSERT_TRUE(admin->ExecuteScript("SELECT pg_advisory_unlock(" + key + ")", "test").ok());
  auto event = appended.get();
  EXPECT_TRUE(event.ok()) << event.error().message;
}

TEST_P(PostgresStoreTest, UpgradesFromVersionOneSchema) {
  // Version 1 is the schema that credgate builds without refresh leases wrote.
  PostgresStoreOptions old_options = PostgresOptions();
  old_options.migrations = PostgresMigrations().first(1);
  auto old_store = Open(old_options);
  ASSERT_NE(old_store, nullptr);
  ASSERT_EQ(old_store->schema_version(), 1);
  ASSERT_TRUE(old_store->Put(Resource("provider", "providers/a", "")).ok());
  auto old_tokens = old_store->PutTokens(Tokens("providers/a/connections/x", "sealed"), 0);
  ASSERT_TRUE(old_tokens.ok()) << old_tokens.error().message;
  old_store.reset();

  auto store = Open(PostgresOptions());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), static_cast<int>(PostgresMigrations().size()));
  EXPECT_TRUE(store->Get("provider", "providers/a").ok());
  auto tokens = store->GetTokens("providers/a/connections/x");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->sealed_tokens, "sealed");
  EXPECT_EQ(tokens->version, old_tokens->version);
  auto lease = store->AcquireRefreshLease("providers/a/connections/x", tokens->version, "gateway-a",
                                          1'000, 30'000);
  ASSERT_TRUE(lease.ok()) << lease.error().message;
  EXPECT_EQ(lease->outcome, RefreshLease::Outcome::kAcquired);
  EXPECT_FALSE(lease->unfinished_attempt);
}

TEST_P(PostgresStoreTest, FailedMigrationRollsBack) {
  Open(PostgresOptions()).reset();
  std::vector<Migration> broken(PostgresMigrations().begin(), PostgresMigrations().end());
  broken.push_back({static_cast<int>(broken.size()) + 1, "broken",
                    "CREATE TABLE half (x INTEGER); THIS IS NOT SQL"});
  PostgresStoreOptions options = PostgresOptions();
  options.migrations = broken;
  ASSERT_FALSE(PostgresStore::Open(options).ok());

  // The table the broken script created first must be gone, and the version unchanged.
  EXPECT_EQ(AppliedMigrations(), "1 2 3 4 ");
  auto retry = PostgresStore::Open(options);
  ASSERT_FALSE(retry.ok());
  EXPECT_EQ(retry.error().message.find("already exists"), std::string::npos);
}

TEST_P(PostgresStoreTest, RejectsNewerSchema) {
  std::vector<Migration> newer(PostgresMigrations().begin(), PostgresMigrations().end());
  newer.push_back({static_cast<int>(newer.size()) + 1, "future", "CREATE TABLE future (x INT)"});
  PostgresStoreOptions options = PostgresOptions();
  options.migrations = newer;
  Open(options).reset();

  auto store = PostgresStore::Open(PostgresOptions());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(store.error().message.find("run a newer credgate"), std::string::npos);
}

TEST_P(PostgresStoreTest, UnreachableServerIsUnavailable) {
  // Nothing listens on port 1 of the loopback address, so the connection is refused at once.
  auto store = PostgresStore::Open(
      {.url = "postgresql://credgate:pa55-word-7f3a@127.0.0.1:1/credgate", .schema = schema_});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(store.error().message.find("postgresql://credgate:***@127.0.0.1:1/credgate"),
            std::string::npos)
      << store.error().message;
  EXPECT_EQ(store.error().message.find("pa55-word-7f3a"), std::string::npos);
}

TEST_P(PostgresStoreTest, WrongPasswordMessageHidesIt) {
  // The test server trusts loopback connections and ignores the password, so a role that does
  // not exist makes the connection fail instead.
  auto store = PostgresStore::Open(
      {.url = PostgresTestUrlAs("no_such_role:hidden-pw-91c2"), .schema = schema_});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(store.error().message.find("no_such_role"), std::string::npos) << store.error().message;
  EXPECT_EQ(store.error().message.find("hidden-pw-91c2"), std::string::npos);
}

TEST_P(PostgresStoreTest, OpensAsRoleLimitedToItsSchema) {
  // The role may create tables in its own schema but nothing in the database itself.
  const std::string role = schema_.substr(0, 60) + "_r";
  ASSERT_TRUE(RunAdminSql("CREATE ROLE " + role + " LOGIN; CREATE SCHEMA " + schema_ +
                          " AUTHORIZATION " + role));
  PostgresStoreOptions options = PostgresOptions();
  options.url = PostgresTestUrlAs(role);
  auto store = PostgresStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.error().message;
  if (store.ok()) {
    EXPECT_TRUE((*store)->Put(Resource(kProvider, kGithub, "")).ok());
    store = Error{};  // Closes the role's connections before the role is dropped.
  }

  EXPECT_TRUE(RunAdminSql("DROP SCHEMA " + schema_ + " CASCADE; DROP ROLE " + role));
}

TEST_P(PostgresStoreTest, MalformedUrlIsInvalid) {
  auto store = PostgresStore::Open({.url = "postgresql://u:secret-x@host:notaport/db?bad=1"});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.error().message.find("secret-x"), std::string::npos);
}

TEST_P(PostgresStoreTest, RedactsPassword) {
  EXPECT_EQ(RedactPostgresUrl("postgresql://app:s3cret@db.example:5433/credgate"),
            "postgresql://app:***@db.example:5433/credgate");
  EXPECT_EQ(RedactPostgresUrl("postgresql://app@127.0.0.1/credgate"),
            "postgresql://app@127.0.0.1/credgate");
}

TEST_P(PostgresStoreTest, PoolReconnectsAfterBackendsTerminated) {
  auto store = Open(PostgresOptions());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put(Resource(kProvider, kGithub, "")).ok());
  ASSERT_GE(TerminateBackends(schema_), 1);

  // A read finds its pooled connection dead and retries on a new one.
  auto read = store->Get(kProvider, kGithub);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->version, 1);

  ASSERT_GE(TerminateBackends(schema_), 1);
  // A write whose BEGIN meets a dead connection has changed nothing, so it is retried.
  auto written = store->Put(Resource(kProvider, kGithub, ""));
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(written->version, 2);
}

TEST_P(PostgresStoreTest, BrokenTransactionIsNotApplied) {
  auto store = Open(PostgresOptions());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put(Resource(kProvider, kGithub, "")).ok());
  ASSERT_TRUE(store->Put(Resource(kConnection, kAlice, kGithub)).ok());
  ASSERT_TRUE(store->PutTokens(Tokens(kAlice, "sealed"), std::nullopt).ok());

  // Hold the tokens table so that DeleteTree stops after deleting the resources, then kill its
  // connection there, in the middle of its transaction.
  auto blocker = ConnectAdmin();
  ASSERT_TRUE(blocker->ExecuteScript("BEGIN; LOCK TABLE " + Table("tokens"), "test").ok());
  auto deleted = std::async(std::launch::async, [&] { return store->DeleteTree(kGithub); });
  ASSERT_TRUE(WaitForStoreToBlock());
  ASSERT_GE(TerminateBackends(schema_), 1);
  auto result = deleted.get();
  ASSERT_TRUE(blocker->ExecuteScript("ROLLBACK", "test").ok());

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result.error().message.find("the change was not applied"), std::string::npos)
      << result.error().message;
  EXPECT_TRUE(store->Get(kProvider, kGithub).ok());
  EXPECT_TRUE(store->Get(kConnection, kAlice).ok());
  EXPECT_TRUE(store->GetTokens(kAlice).ok());
}

TEST_P(PostgresStoreTest, PoolWaitIsBounded) {
  PostgresStoreOptions options = PostgresOptions();
  options.pool_size = 1;
  options.acquire_timeout = milliseconds(300);
  auto store = Open(options);
  ASSERT_NE(store, nullptr);

  // The pool's only connection waits on a lock, so the next call finds none free.
  auto blocker = ConnectAdmin();
  ASSERT_TRUE(blocker->ExecuteScript("BEGIN; LOCK TABLE " + Table("resources"), "test").ok());
  auto put =
      std::async(std::launch::async, [&] { return store->Put(Resource(kProvider, kGithub, "")); });
  ASSERT_TRUE(WaitForStoreToBlock());

  const auto started = std::chrono::steady_clock::now();
  auto tokens = store->GetTokens(kAlice);
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(blocker->ExecuteScript("ROLLBACK", "test").ok());

  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(tokens.error().message.find("no free PostgreSQL connection"), std::string::npos);
  EXPECT_GE(waited, milliseconds(300));
  EXPECT_LT(waited, milliseconds(3000));
  EXPECT_TRUE(put.get().ok());
}

TEST_P(PostgresStoreTest, TokensAreBytea) {
  auto store = Open(PostgresOptions());
  ASSERT_NE(store, nullptr);
  const std::string blob("\x00\x01\xfe\xff", 4);
  ASSERT_TRUE(store->PutTokens(Tokens(kAlice, blob), std::nullopt).ok());

  auto admin = ConnectAdmin();
  auto rows = admin->Execute(
      "SELECT octet_length(sealed_tokens)::BIGINT, "
      "pg_typeof(sealed_tokens)::TEXT FROM " +
          Table("tokens"),
      "test");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->Int64(0, 0), 4);
  EXPECT_EQ(rows->Bytes(0, 1), "bytea");
}

}  // namespace
}  // namespace credgate::store
