#include "crypto/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/encoding.h"

namespace credgate::crypto {
namespace {

constexpr std::string_view kAad = "connections/github/alice";

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("credgate-key-file-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  static std::string EncodedKey(char fill) { return Base64Encode(std::string(32, fill)); }

  std::string WriteFile(std::string_view name, std::string_view text, mode_t mode) {
    std::string path = (folder_ / name).string();
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }

  static mode_t ModeOf(const std::string& path) {
    struct stat info;
    EXPECT_EQ(::stat(path.c_str(), &info), 0);
    return info.st_mode & 07777;
  }

  std::filesystem::path folder_;
  OpenSslRandom random_;
};

TEST_F(KeyFileTest, EnvWithId) {
  auto keyring = KeyringFromEnvValue("prod-1:" + EncodedKey('a'));
  ASSERT_TRUE(keyring.ok()) << keyring.error().message;
  EXPECT_EQ(keyring->active_key_id(), "prod-1");
}

TEST_F(KeyFileTest, EnvWithoutIdUsesDefault) {
  auto keyring = KeyringFromEnvValue(EncodedKey('a'));
  ASSERT_TRUE(keyring.ok()) << keyring.error().message;
  EXPECT_EQ(keyring->active_key_id(), "default");
}

TEST_F(KeyFileTest, EnvRejectsShortKey) {
  auto keyring = KeyringFromEnvValue(Base64Encode("short"));
  ASSERT_FALSE(keyring.ok());
  EXPECT_NE(keyring.error().message.find("CREDGATE_MASTER_KEY"), std::string::npos);
  EXPECT_NE(keyring.error().message.find("expected 32"), std::string::npos);
}

TEST_F(KeyFileTest, EnvRejectsInvalidBase64) { EXPECT_FALSE(KeyringFromEnvValue("k1:***").ok()); }

TEST_F(KeyFileTest, FileWithSeveralKeys) {
  std::string text = "# rotated\nk1:" + EncodedKey('a') + "\n\nk2:" + EncodedKey('b') + "\r\n";
  std::string path = WriteFile("keys", text, 0600);
  auto keyring = KeyringFromFile(path);
  ASSERT_TRUE(keyring.ok()) << keyring.error().message;
  EXPECT_EQ(keyring->key_ids(), (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(keyring->active_key_id(), "k2");
}

TEST_F(KeyFileTest, OldBlobsOpenAfterRotation) {
  std::string first = WriteFile("first", "k1:" + EncodedKey('a') + "\n", 0600);
  std::string blob = KeyringFromFile(first).value().Seal(Secret("token"), kAad).value();

  std::string rotated =
      WriteFile("rotated", "k1:" + EncodedKey('a') + "\nk2:" + EncodedKey('b') + "\n", 0600);
  Keyring keyring = KeyringFromFile(rotated).value();
  EXPECT_TRUE(keyring.Open(blob, kAad).value().Equals("token"));
  EXPECT_EQ(SealedKeyId(keyring.Seal(Secret("token"), kAad).value()).value(), "k2");
}

TEST_F(KeyFileTest, RejectsGroupReadableFile) {
  std::string path = WriteFile("keys", "k1:" + EncodedKey('a') + "\n", 0644);
  auto keyring = KeyringFromFile(path);
  ASSERT_FALSE(keyring.ok());
  EXPECT_EQ(keyring.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(keyring.error().message.find("mode 0644"), std::string::npos);
  EXPECT_NE(keyring.error().message.find("chmod 600 " + path), std::string::npos);
}

TEST_F(KeyFileTest, AcceptsOwnerReadOnlyFile) {
  std::string path = WriteFile("keys", "k1:" + EncodedKey('a') + "\n", 0400);
  EXPECT_TRUE(KeyringFromFile(path).ok());
}

TEST_F(KeyFileTest, MalformedLineNamesLine) {
  std::string path = WriteFile("keys", "k1:" + EncodedKey('a') + "\nbroken\n", 0600);
  auto keyring = KeyringFromFile(path);
  ASSERT_FALSE(keyring.ok());
  EXPECT_NE(keyring.error().message.find(path + " line 2"), std::string::npos);
}

TEST_F(KeyFileTest, EmptyFileIsRejected) {
  std::string path = WriteFile("keys", "# nothing\n", 0600);
  EXPECT_FALSE(KeyringFromFile(path).ok());
}

TEST_F(KeyFileTest, MissingFileIsNotFound) {
  auto keyring = KeyringFromFile((folder_ / "absent").string());
  ASSERT_FALSE(keyring.ok());
  EXPECT_EQ(keyring.error().code, ErrorCode::kNotFound);
}

TEST_F(KeyFileTest, GenerateCreatesMode0600) {
  std::string path = (folder_ / "master.key").string();
  auto generated = GenerateKeyFile(path, random_);
  ASSERT_TRUE(generated.ok()) << generated.error().message;
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(generated->active_key_id(), "k1");

  // The file round-trips: a blob sealed by the generated keyring opens with the file's keyring.
  std::string blob = generated->Seal(Secret("token"), kAad).value();
  auto reread = KeyringFromFile(path);
  ASSERT_TRUE(reread.ok()) << reread.error().message;
  EXPECT_TRUE(reread->Open(blob, kAad).value().Equals("token"));
}

TEST_F(KeyFileTest, GenerateNeverOverwrites) {
  std::string path = WriteFile("master.key", "k1:" + EncodedKey('a') + "\n", 0600);
  auto generated = GenerateKeyFile(path, random_);
  ASSERT_FALSE(generated.ok());
  EXPECT_EQ(generated.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(KeyringFromFile(path).value().Seal(Secret("x"), kAad).ok(), true);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(folder_), {}), 1);
}

TEST_F(KeyFileTest, LoadGeneratesThenReuses) {
  KeyringOptions options{.generated_key_file = (folder_ / "master.key").string()};
  auto first = LoadKeyring(options, random_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->source, KeySource::kGeneratedKeyFile);
  EXPECT_EQ(first->path, options.generated_key_file);
  std::string blob = first->keyring.Seal(Secret("token"), kAad).value();

  auto second = LoadKeyring(options, random_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->source, KeySource::kKeyFile);
  EXPECT_TRUE(second->keyring.Open(blob, kAad).value().Equals("token"));
}

TEST_F(KeyFileTest, LoadPrefersEnv) {
  KeyringOptions options{.env_value = "e1:" + EncodedKey('a'),
                         .generated_key_file = (folder_ / "master.key").string()};
  auto loaded = LoadKeyring(options, random_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->source, KeySource::kEnvironment);
  EXPECT_FALSE(std::filesystem::exists(options.generated_key_file));
}

TEST_F(KeyFileTest, LoadRejectsEnvAndFile) {
  KeyringOptions options{.env_value = EncodedKey('a'), .key_file = "/nonexistent/keys"};
  auto loaded = LoadKeyring(options, random_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(KeyFileTest, LoadConfiguredFileMustExist) {
  KeyringOptions options{.key_file = (folder_ / "absent").string()};
  auto loaded = LoadKeyring(options, random_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kNotFound);
}

TEST_F(KeyFileTest, LoadWithoutSourceFails) {
  auto loaded = LoadKeyring(KeyringOptions{}, random_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(KeyFileTest, ReadsEnvironmentVariable) {
  ::setenv("CREDGATE_MASTER_KEY", "abc", 1);
  EXPECT_EQ(MasterKeyFromEnv().value_or(""), "abc");
  ::unsetenv("CREDGATE_MASTER_KEY");
  EXPECT_FALSE(MasterKeyFromEnv().has_value());
}

}  // namespace
}  // namespace credgate::crypto
