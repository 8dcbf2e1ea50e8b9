// A fixture that runs the same Store cases on SqliteStore and on PostgresStore. Tests written
// with TEST_P on a subclass run once per backend; instantiate them with
// INSTANTIATE_STORE_BACKENDS(Suite). The PostgreSQL cases are skipped when
// CREDGATE_TEST_POSTGRES_URL is unset.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

#include "postgres_test_server.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace credgate::store {

enum class StoreBackend { kSqlite, kPostgres };

inline void PrintTo(StoreBackend backend, std::ostream* out) {
  *out << (backend == StoreBackend::kSqlite ? "Sqlite" : "Postgres");
}

class StoreBackendTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreBackend::kPostgres) {
      if (PostgresTestUrl().empty()) {
        GTEST_SKIP() << "CREDGATE_TEST_POSTGRES_URL is unset; scripts/test.sh sets it";
      }
      schema_ = UniqueSchemaName();
      return;
    }
    folder_ = std::filesystem::temp_directory_path() /
              ("credgate-store-" + std::to_string(::getpid()) + "-" + UniqueSchemaName());
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
  }

  void TearDown() override {
    if (!schema_.empty()) {
      auto admin = ConnectAdmin();
      if (admin != nullptr) {
        (void)admin->ExecuteScript(
            "DROP SCHEMA IF EXISTS " + admin->QuoteIdentifier(schema_) + " CASCADE",
            "drop test schema");
      }
    }
    if (!folder_.empty()) std::filesystem::remove_all(folder_);
  }

  // Opens a store on this test's database; every call opens another instance on the same data,
  // as another credgate process would.
  std::unique_ptr<Store> OpenStore() {
    if (GetParam() == StoreBackend::kPostgres) {
      auto store = PostgresStore::Open(PostgresOptions());
      EXPECT_TRUE(store.ok()) << store.error().message;
      return store.ok() ? std::move(*store) : nullptr;
    }
    auto store = SqliteStore::Open({.path = (folder_ / "credgate.db").string()});
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }

  // The options of a PostgresStore on this test's schema; application_name is the schema name,
  // so a test can find the store's backends in pg_stat_activity.
  PostgresStoreOptions PostgresOptions() const {
    return PostgresStoreOptions{
        .url = PostgresTestUrl(), .schema = schema_, .application_name = schema_};
  }

  std::string schema_;            // PostgreSQL only.
  std::filesystem::path folder_;  // SQLite only.
};

inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param == StoreBackend::kSqlite ? "Sqlite" : "Postgres";
}

#define INSTANTIATE_STORE_BACKENDS(suite)                                                 \
  INSTANTIATE_TEST_SUITE_P(Backends, suite,                                               \
                           ::testing::Values(::credgate::store::StoreBackend::kSqlite,    \
                                             ::credgate::store::StoreBackend::kPostgres), \
                           ::credgate::store::StoreBackendName)

}  // namespace credgate::store
