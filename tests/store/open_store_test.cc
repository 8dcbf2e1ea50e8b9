#include "store/open_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "postgres_test_server.h"

namespace credgate::store {
namespace {

class OpenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("credgate-open-store-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  std::filesystem::path folder_;
};

TEST_F(OpenStoreTest, OpensSqliteByAbsolutePath) {
  auto store = OpenStore("sqlite://" + (folder_ / "credgate.db").string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_TRUE(std::filesystem::exists(folder_ / "credgate.db"));
}

TEST_F(OpenStoreTest, SqliteHasNoChangeFeed) {
  auto feed = OpenChangeFeed("sqlite:///var/lib/credgate/credgate.db");
  ASSERT_TRUE(feed.ok()) << feed.error().message;
  EXPECT_EQ(*feed, nullptr);
}

TEST_F(OpenStoreTest, PostgresHasChangeFeed) {
  auto feed = OpenChangeFeed("postgresql://credgate@127.0.0.1:1/credgate");
  ASSERT_TRUE(feed.ok()) << feed.error().message;
  EXPECT_NE(*feed, nullptr);
}

TEST_F(OpenStoreTest, RejectsOtherUrls) {
  for (const char* url : {"mysql://db/credgate", "/var/lib/credgate.db", "sqlite://host/path",
                          "sqlite:", "sqlite://"}) {
    auto store = OpenStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument) << url;
    auto feed = OpenChangeFeed(url);
    ASSERT_FALSE(feed.ok()) << url;
  }
}

TEST_F(OpenStoreTest, RedactsPostgresPassword) {
  EXPECT_EQ(RedactStoreUrl("postgres://app:pw@db:5432/credgate"),
            "postgresql://app:***@db:5432/credgate");
  EXPECT_EQ(RedactStoreUrl("sqlite:///data/credgate.db"), "sqlite:///data/credgate.db");
}

TEST_F(OpenStoreTest, OpensPostgres) {
  if (PostgresTestUrl().empty()) GTEST_SKIP() << "CREDGATE_TEST_POSTGRES_URL is unset";
  // A schema of its own through libpq's options parameter, which the URL may carry.
  const std::string schema = UniqueSchemaName();
  ASSERT_TRUE(RunAdminSql("CREATE SCHEMA " + schema));
  const std::string url = PostgresTestUrl();
  auto store = OpenStore(url + (url.find('?') == std::string::npos ? "?" : "&") +
                         "options=-csearch_path%3D" + schema);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_TRUE((*store)->ListAdminKeys().ok());
  store->reset();
  EXPECT_TRUE(RunAdminSql("DROP SCHEMA " + schema + " CASCADE"));
}

}  // namespace
}  // namespace credgate::store
