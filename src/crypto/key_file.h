// Where master keys come from: the CREDGATE_MASTER_KEY environment variable, a key file, the
// output of a master key command (key_command.h), or a key file that credgate generates on
// first start. All functions are thread-safe; they touch only the
// named file and the environment.
//
// Key text format, shared by the variable and the file: `id:base64` where base64 (RFC 4648 §4,
// padded) encodes exactly 32 bytes and id is 1 to 64 characters of [A-Za-z0-9._-]. The variable
// and the command output may also hold one bare base64 key, which gets the id "default", or
// several `id:base64` keys, one per line (the variable also takes commas between them, since
// base64 never contains one). A key file has one such line per
// key; blank lines and lines starting with '#' are skipped, and the last key line is the active
// key. To rotate, append a line with a new id and keep the old lines until every blob is
// rewrapped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "common/result.h"
#include "crypto/aead.h"
#include "crypto/key_command.h"
#include "crypto/keyring.h"

namespace credgate::crypto {

inline constexpr char kMasterKeyEnvVar[] = "CREDGATE_MASTER_KEY";
inline constexpr char kDefaultKeyId[] = "default";
inline constexpr char kGeneratedKeyId[] = "k1";

// Parses key lines as described above. `source` names the origin (a path or the variable) in
// error messages, which give the line number and never key bytes. Fails with kInvalidArgument.
Result<std::vector<MasterKey>> ParseKeyLines(std::string_view text, std::string_view source);

// Parses the value of CREDGATE_MASTER_KEY: one bare base64 key, or `id:base64` keys separated by
// newlines or commas, the last one active.
Result<Keyring> KeyringFromEnvValue(std::string_view value);

// Parses key text from `source` (the master key command's output): one bare base64 key, or
// key lines as ParseKeyLines reads them.
Result<Keyring> KeyringFromText(std::string_view text, std::string_view source);

// Reads a key file. Fails with kNotFound when it does not exist, kFailedPrecondition when it is
// not a regular file or when group or others have any permission on it (the message names the
// path and `chmod 600`), kUnavailable when it cannot be read, and kInvalidArgument when a line is
// malformed.
Result<Keyring> KeyringFromFile(const std::string& path);

// Generates one random key with id kGeneratedKeyId and writes it to `path` with mode 0600. The
// file appears atomically and complete (written to a temporary file in the same folder, synced,
// then hard-linked into place), and an existing file is never replaced: then the call fails with
// kAlreadyExists. Other failures are kUnavailable and name the path.
Result<Keyring> GenerateKeyFile(const std::string& path, RandomSource& random);

enum class KeySource { kEnvironment, kKeyFile, kCommand, kGeneratedKeyFile };

struct KeyringOptions {
  // Value of CREDGATE_MASTER_KEY; nullopt when the variable is unset. See MasterKeyFromEnv.
  std::optional<std::string> env_value;
  // Configured key file, which must exist; empty when none is configured.
  std::string key_file;
  // Master key command; an empty argv when none is configured.
  KeyCommand key_command;
  // Used when neither of the above is set: this file is read if it exists, and generated
  // otherwise. Empty disables generation.
  std::string generated_key_file;
};

struct LoadedKeyring {
  Keyring keyring;
  KeySource source;
  // The key file read or generated, or the command's argv[0]; empty for kEnvironment.
  std::string path;
};

// Loads the keyring from the first source that `options` sets, in the order of the fields.
// Setting more than one of `env_value`, `key_file` and `key_command` is ambiguous and fails with
// kInvalidArgument, and setting none fails with kFailedPrecondition. A failing key command fails
// as RunKeyCommand does. The caller should log `source` and `path`, especially after a
// generation, because that file must then be backed up: without it no sealed secret opens.
Result<LoadedKeyring> LoadKeyring(const KeyringOptions& options, RandomSource& random);

// Returns the value of CREDGATE_MASTER_KEY, or nullopt when it is unset or empty.
std::optional<std::string> MasterKeyFromEnv();

}  // namespace credgate::crypto
