#include "crypto/key_command.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/encoding.h"
#include "crypto/key_file.h"

namespace credgate::crypto {
namespace {

using std::chrono::milliseconds;

std::string EncodedKey(char fill) { return Base64Encode(std::string(32, fill)); }

KeyCommand Shell(std::string script, milliseconds timeout = milliseconds(5000)) {
  // Tests use sh as the program on purpose; credgate itself never adds a shell.
  return KeyCommand{{"sh", "-c", std::move(script)}, timeout};
}

TEST(KeyCommand, ReturnsStandardOutput) {
  auto output = RunKeyCommand(KeyCommand{{"printf", "k1:%s", "abc"}});
  ASSERT_TRUE(output.ok()) << output.error().message;
  EXPECT_EQ(output->Expose(), "k1:abc");
}

TEST(KeyCommand, ArgumentsAreNotExpanded) {
  auto output = RunKeyCommand(KeyCommand{{"echo", "$HOME", "*"}});
  ASSERT_TRUE(output.ok()) << output.error().message;
  EXPECT_EQ(output->Expose(), "$HOME *\n");
}

TEST(KeyCommand, EnvironmentLacksCredgateSecrets) {
  ::setenv("CREDGATE_ADMIN_KEY", "admin-key-for-tests-0123456789", 1);
  ::setenv("KEY_COMMAND_TEST_VARIABLE", "visible", 1);
  auto output = RunKeyCommand(KeyCommand{{"env"}});
  ::unsetenv("CREDGATE_ADMIN_KEY");
  ::unsetenv("KEY_COMMAND_TEST_VARIABLE");
  ASSERT_TRUE(output.ok()) << output.error().message;
  EXPECT_EQ(output->Expose().find("CREDGATE_ADMIN_KEY"), std::string::npos);
  EXPECT_NE(output->Expose().find("KEY_COMMAND_TEST_VARIABLE=visible"), std::string::npos);
}

TEST(KeyCommand, MissingProgramIsUnavailable) {
  auto output = RunKeyCommand(KeyCommand{{"credgate-no-such-program"}});
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kUnavailable);
}

TEST(KeyCommand, FailureRedactsStandardError) {
  const std::string key = EncodedKey('k');
  auto output = RunKeyCommand(Shell("echo 'bad key " + key + "' >&2; exit 3"));
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(output.error().message.find("exited with status 3"), std::string::npos);
  EXPECT_NE(output.error().message.find("bad key [redacted]"), std::string::npos)
      << output.error().message;
  EXPECT_EQ(output.error().message.find(key.substr(0, 16)), std::string::npos);
}

TEST(KeyCommand, TimeoutKillsCommand) {
  auto started = std::chrono::steady_clock::now();
  auto output = RunKeyCommand(Shell("sleep 30", milliseconds(200)));
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(KeyCommand, TimeoutCoversClosedOutput) {
  auto output = RunKeyCommand(Shell("exec >&- 2>&-; sleep 30", milliseconds(200)));
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kDeadlineExceeded);
}

TEST(KeyCommand, RejectsLargeOutput) {
  KeyCommand command{{"head", "-c", "100000", "/dev/zero"}};
  auto output = RunKeyCommand(command);
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(output.error().code, ErrorCode::kInvalidArgument);
}

TEST(KeyCommand, SplitsOnWhitespace) {
  EXPECT_EQ(SplitCommandLine("  vault kv\tget  -field=keys "),
            (std::vector<std::string>{"vault", "kv", "get", "-field=keys"}));
}

TEST(KeyCommand, RedactsKeyShapedRuns) {
  EXPECT_EQ(RedactKeyMaterial("key=" + EncodedKey('a') + " short\nnext"), "[redacted] short next");
}

TEST(KeyCommand, LoadKeyringFromCommand) {
  KeyringOptions options;
  options.key_command =
      KeyCommand{{"printf", "%s\\n%s\\n", "old:" + EncodedKey('a'), "new:" + EncodedKey('b')}};
  OpenSslRandom random;
  auto loaded = LoadKeyring(options, random);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->source, KeySource::kCommand);
  EXPECT_EQ(loaded->keyring.active_key_id(), "new");
  EXPECT_EQ(loaded->keyring.key_ids().size(), 2u);
}

TEST(KeyCommand, LoadRejectsCommandAndFile) {
  KeyringOptions options;
  options.key_file = "/nonexistent/keys";
  options.key_command = KeyCommand{{"true"}};
  OpenSslRandom random;
  auto loaded = LoadKeyring(options, random);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kInvalidArgument);
}

TEST(KeyCommand, EnvTakesSeveralKeys) {
  auto keyring = KeyringFromEnvValue("old:" + EncodedKey('a') + ",new:" + EncodedKey('b'));
  ASSERT_TRUE(keyring.ok()) << keyring.error().message;
  EXPECT_EQ(keyring->active_key_id(), "new");
  EXPECT_TRUE(keyring->Contains("old"));
}

}  // namespace
}  // namespace credgate::crypto
