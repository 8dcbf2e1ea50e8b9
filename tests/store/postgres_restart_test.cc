// PostgresStore across a restart of the test server. The cases stop and start the server that
// scripts/postgres.sh runs, so CTest runs this binary alone (RUN_SERIAL), and the cases skip
// unless CREDGATE_TEST_POSTGRES_URL is that server and the process may run the script.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "store_backend_fixture.h"
#include "store_fixture.h"

namespace credgate::store {
namespace {

constexpr char kProvider[] = "authorizationProvider";
constexpr char kConnection[] = "authorization";
constexpr char kGithub[] = "authorizationProviders/github";
constexpr char kAlice[] = "authorizationProviders/github/authorizations/alice";

// Runs scripts/postgres.sh with `verb` and returns its standard output, or nullopt when it
// fails.
std::optional<std::string> RunPostgresScript(const std::string& verb) {
  const std::string command =
      std::string(CREDGATE_SOURCE_DIR) + "/scripts/postgres.sh " + verb + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  if (::pclose(pipe) != 0) return std::nullopt;
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

class PostgresRestartTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    if (RunPostgresScript("url") != std::optional(PostgresTestUrl())) {
      GTEST_SKIP() << "CREDGATE_TEST_POSTGRES_URL is not the server of scripts/postgres.sh";
    }
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    // Leave the server running for the tests that follow, whatever happened.
    if (!schema_.empty()) RunPostgresScript("start");
    StoreBackendTest::TearDown();
  }

  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresRestartTest, ::testing::Values(StoreBackend::kPostgres),
                         StoreBackendName);

TEST_P(PostgresRestartTest, WriteWhileStoppedIsUnavailable) {
  ASSERT_TRUE(store_->Put(Resource(kProvider, kGithub, "")).ok());
  ASSERT_TRUE(store_->Put(Resource(kConnection, kAlice, kGithub)).ok());
  ASSERT_TRUE(store_->PutTokens(Tokens(kAlice, "sealed"), std::nullopt).ok());
  ASSERT_TRUE(RunPostgresScript("stop").has_value());

  auto deleted = store_->DeleteTree(kGithub);
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code, ErrorCode::kUnavailable);
  auto read = store_->Get(kProvider, kGithub);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kUnavailable);

  ASSERT_TRUE(RunPostgresScript("start").has_value());
  // Nothing of the failed DeleteTree was applied, and the pool reconnects by itself.
  auto provider = store_->Get(kProvider, kGithub);
  ASSERT_TRUE(provider.ok()) << provider.error().message;
  EXPECT_TRUE(store_->Get(kConnection, kAlice).ok());
  EXPECT_TRUE(store_->GetTokens(kAlice).ok());
}

TEST_P(PostgresRestartTest, CallsRecoverAfterRestart) {
  ASSERT_TRUE(store_->Put(Resource(kProvider, kGithub, "")).ok());
  ASSERT_TRUE(RunPostgresScript("stop").has_value());
  ASSERT_TRUE(RunPostgresScript("start").has_value());

  // The pooled connection died with the old server; the write's BEGIN finds that out and the
  // write runs on a new connection.
  auto written = store_->Put(Resource(kProvider, kGithub, "", R"({"v":2})"));
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(written->version, 2);

  ASSERT_TRUE(RunPostgresScript("stop").has_value());
  ASSERT_TRUE(RunPostgresScript("start").has_value());
  auto read = store_->Get(kProvider, kGithub);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->body_json, R"({"v":2})");
}

}  // namespace
}  // namespace credgate::store
