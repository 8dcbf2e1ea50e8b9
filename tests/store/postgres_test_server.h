// Access to the PostgreSQL server of the tests: scripts/postgres.sh starts one and scripts/test.sh
// exports its URL as CREDGATE_TEST_POSTGRES_URL. Every test works in a schema of its own, so
// tests that run in parallel processes do not see each other's rows.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>

#include "store/postgres_connection.h"

namespace credgate::store {

// The URL of the test server, or "" when CREDGATE_TEST_POSTGRES_URL is unset.
inline std::string PostgresTestUrl() {
  const char* url = std::getenv("CREDGATE_TEST_POSTGRES_URL");
  return url != nullptr ? url : "";
}

// The test server's URL with `user_info` ("user" or "user:password") in place of its own.
inline std::string PostgresTestUrlAs(const std::string& user_info) {
  const std::string url = PostgresTestUrl();
  const size_t at = url.rfind('@');
  const std::string server = url.substr(at != std::string::npos ? at + 1 : url.find("//") + 2);
  return "postgresql://" + user_info + "@" + server;
}

// A schema name unique to this process and call, readable in pg_stat_activity: "t<pid>_<n>_"
// and the current test's name in lower case, at most 63 bytes (PostgreSQL's identifier limit).
inline std::string UniqueSchemaName() {
  static std::atomic<int> counter{0};
  std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_";
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  for (char c : std::string(test != nullptr ? test->name() : "")) {
    name.push_back(std::isalnum(static_cast<unsigned char>(c))
                       ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                       : '_');
  }
  return name.substr(0, 63);
}

// A connection outside any store, for setting up and breaking things.
inline std::unique_ptr<PostgresConnection> ConnectAdmin() {
  auto connection =
      PostgresConnection::Connect({.url = PostgresTestUrl(), .application_name = "credgate-test"});
  EXPECT_TRUE(connection.ok()) << connection.error().message;
  return connection.ok() ? std::move(*connection) : nullptr;
}

// Runs `sql` on a new admin connection and returns whether it succeeded.
inline bool RunAdminSql(const std::string& sql) {
  auto admin = ConnectAdmin();
  if (admin == nullptr) return false;
  Status status = admin->ExecuteScript(sql, "test set-up");
  EXPECT_TRUE(status.ok()) << status.error().message;
  return status.ok();
}

// Terminates every backend whose application_name is `application_name`, as a server restart
// would, and returns how many there were.
inline int64_t TerminateBackends(const std::string& application_name) {
  auto admin = ConnectAdmin();
  if (admin == nullptr) return 0;
  const PgParam params[] = {PgParam::Text(application_name)};
  auto terminated = admin->Execute(
      "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = $1) AS t",
      params, "terminate backends");
  EXPECT_TRUE(terminated.ok()) << terminated.error().message;
  return terminated.ok() ? terminated->Int64(0, 0) : 0;
}

}  // namespace credgate::store
