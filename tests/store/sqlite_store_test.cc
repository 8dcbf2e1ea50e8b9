// What only SqliteStore does: file modes and the file's contents. The Store contract itself is
// checked on every backend in store_test.cc.
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
constexpr char kGithub[] = "authorizationProviders/github";
constexpr char kAlice[] = "authorizationProviders/github/authorizations/alice";

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

  std::string FileBytes() {
    std::ifstream file(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
  }

  std::unique_ptr<SqliteStore> store_;
};

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
