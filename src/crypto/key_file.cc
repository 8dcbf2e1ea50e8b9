#include "crypto/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/encoding.h"
#include "common/secret.h"
#include "crypto/aes_gcm.h"

namespace credgate::crypto {

namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string ErrnoText(int error) { return std::strerror(error); }

std::string OctalMode(mode_t mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

// Parses `id:base64`, or bare base64 when `default_id` is not empty.
Result<MasterKey> ParseKeyLine(std::string_view line, std::string_view default_id,
                               const std::string& where) {
  size_t colon = line.find(':');
  std::string id;
  std::string_view encoded = line;
  if (colon != std::string_view::npos) {
    id = std::string(Trim(line.substr(0, colon)));
    encoded = Trim(line.substr(colon + 1));
  } else if (!default_id.empty()) {
    id = std::string(default_id);
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     where + ": missing ':'; write each key as id:base64");
  }

  auto decoded = Base64Decode(encoded);
  if (!decoded) {
    return MakeError(ErrorCode::kInvalidArgument,
                     where + ": key '" + id +
                         "' is not valid padded base64; generate one with `openssl rand -base64 "
                         "32`");
  }
  MasterKey key{id, Secret(std::move(*decoded))};
  Status valid = ValidateMasterKey(key);
  if (!valid.ok())
    return MakeError(ErrorCode::kInvalidArgument, where + ": " + valid.error().message);
  return key;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      return MakeError(ErrorCode::kUnavailable,
                       "failed to write key file " + path + ": " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return OkStatus();
}

// Writes `contents` to a new temporary file beside `path`, syncs it and links it to `path`.
// link(2) fails with EEXIST instead of replacing, which makes the creation exclusive.
Status CreateExclusive(const std::string& path, std::string_view contents) {
  std::string temp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(temp.data());  // Creates with O_EXCL and mode 0600.
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable, "failed to create a temporary key file beside " +
                                                  path + ": " + ErrnoText(errno) +
                                                  "; check that the folder exists and is writable");
  }
  Status status = OkStatus();
  if (::fchmod(fd, 0600) != 0) {
    status = MakeError(ErrorCode::kUnavailable,
                       "failed to set mode 0600 on " + temp + ": " + ErrnoText(errno));
  }
  if (status.ok()) status = WriteAll(fd, contents, temp);
  if (status.ok() && ::fsync(fd) != 0) {
    status = MakeError(ErrorCode::kUnavailable, "failed to sync " + temp + ": " + ErrnoText(errno));
  }
  ::close(fd);
  if (status.ok() && ::link(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    status = error == EEXIST
                 ? MakeError(ErrorCode::kAlreadyExists,
                             "key file " + path + " already exists; it was not replaced")
                 : MakeError(ErrorCode::kUnavailable,
                             "failed to create key file " + path + ": " + ErrnoText(error));
  }
  ::unlink(temp.c_str());
  if (!status.ok()) return status;

  // Sync the folder so that the new name survives a crash.
  std::string folder = std::filesystem::path(path).parent_path().string();
  int dir_fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return OkStatus();
}

}  // namespace

Result<std::vector<MasterKey>> ParseKeyLines(std::string_view text, std::string_view source) {
  std::vector<MasterKey> keys;
  int line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;

    std::string where = std::string(source) + " line " + std::to_string(line_number);
    auto key = ParseKeyLine(line, "", where);
    if (!key.ok()) return key.error();
    keys.push_back(std::move(*key));
  }
  if (keys.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(source) + " contains no key; add a line id:base64");
  }
  return keys;
}

Result<Keyring> KeyringFromEnvValue(std::string_view value) {
  std::string lines(Trim(value));
  for (char& c : lines) {
    if (c == ',') c = '\n';
  }
  Secret wiped_on_return(std::move(lines));
  return KeyringFromText(wiped_on_return.Expose(), kMasterKeyEnvVar);
}

Result<Keyring> KeyringFromText(std::string_view text, std::string_view source) {
  std::string_view trimmed = Trim(text);
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) {
    trimmed.remove_suffix(1);
    trimmed = Trim(trimmed);
  }
  std::vector<MasterKey> keys;
  if (trimmed.find('\n') == std::string_view::npos && trimmed.find(':') == std::string_view::npos) {
    auto key = ParseKeyLine(trimmed, kDefaultKeyId, std::string(source));
    if (!key.ok()) return key.error();
    keys.push_back(std::move(*key));
  } else {
    auto parsed = ParseKeyLines(text, source);
    if (!parsed.ok()) return parsed.error();
    keys = std::move(*parsed);
  }
  return Keyring::Create(std::move(keys));
}

Result<Keyring> KeyringFromFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    return MakeError(error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                     "failed to open key file " + path + ": " + ErrnoText(error));
  }

  // fstat on the open descriptor checks the very file that is read next.
  struct stat info;
  Status status = OkStatus();
  if (::fstat(fd, &info) != 0) {
    status = MakeError(ErrorCode::kUnavailable,
                       "failed to stat key file " + path + ": " + ErrnoText(errno));
  } else if (!S_ISREG(info.st_mode)) {
    status =
        MakeError(ErrorCode::kFailedPrecondition, "key file " + path + " is not a regular file");
  } else if ((info.st_mode & 077) != 0) {
    status = MakeError(ErrorCode::kFailedPrecondition,
                       "key file " + path + " has mode " + OctalMode(info.st_mode) +
                           ", which lets group or others access it; run `chmod 600 " + path + "`");
  }

  std::string contents;
  if (status.ok()) {
    char buffer[4096];
    while (true) {
      ssize_t count = ::read(fd, buffer, sizeof(buffer));
      if (count < 0 && errno == EINTR) continue;
      if (count < 0) {
        status = MakeError(ErrorCode::kUnavailable,
                           "failed to read key file " + path + ": " + ErrnoText(errno));
        break;
      }
      if (count == 0) break;
      contents.append(buffer, static_cast<size_t>(count));
    }
    OPENSSL_cleanse(buffer, sizeof(buffer));
  }
  ::close(fd);
  Secret wiped_on_return(std::move(contents));
  if (!status.ok()) return status.error();

  auto keys = ParseKeyLines(wiped_on_return.Expose(), "key file " + path);
  if (!keys.ok()) return keys.error();
  return Keyring::Create(std::move(*keys));
}

Result<Keyring> GenerateKeyFile(const std::string& path, RandomSource& random) {
  std::string bytes(kAesKeySize, '\0');
  random.Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
  Secret key(std::move(bytes));
  Secret encoded(Base64Encode(key.Expose()));

  // Built in one buffer that a Secret then owns, so no copy of the key outlives this call.
  std::string text =
      "# credgate master keys, one id:base64 line each; the last line is the active key.\n"
      "# Back this file up: without it no stored secret can be decrypted.\n";
  text += kGeneratedKeyId;
  text += ':';
  text += encoded.Expose();
  text += '\n';
  Secret file_text(std::move(text));
  CREDGATE_RETURN_IF_ERROR(CreateExclusive(path, file_text.Expose()));

  std::vector<MasterKey> keys;
  keys.push_back(MasterKey{kGeneratedKeyId, std::move(key)});
  return Keyring::Create(std::move(keys));
}

Result<LoadedKeyring> LoadKeyring(const KeyringOptions& options, RandomSource& random) {
  const bool has_command = !options.key_command.argv.empty();
  int sources = (options.env_value ? 1 : 0) + (options.key_file.empty() ? 0 : 1) +
                (has_command ? 1 : 0);
  if (sources > 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("more than one master key source is set (") + kMasterKeyEnvVar +
                         ", the key file, the master key command); keep one of them");
  }
  if (options.env_value) {
    auto keyring = KeyringFromEnvValue(*options.env_value);
    if (!keyring.ok()) return keyring.error();
    return LoadedKeyring{std::move(*keyring), KeySource::kEnvironment, ""};
  }
  if (!options.key_file.empty()) {
    auto keyring = KeyringFromFile(options.key_file);
    if (!keyring.ok()) return keyring.error();
    return LoadedKeyring{std::move(*keyring), KeySource::kKeyFile, options.key_file};
  }
  if (has_command) {
    auto output = RunKeyCommand(options.key_command);
    if (!output.ok()) return output.error();
    const std::string& program = options.key_command.argv[0];
    auto keyring = KeyringFromText(output->Expose(), "output of master key command " + program);
    if (!keyring.ok()) return keyring.error();
    return LoadedKeyring{std::move(*keyring), KeySource::kCommand, program};
  }
  if (options.generated_key_file.empty()) {
    return MakeError(
        ErrorCode::kFailedPrecondition,
        std::string("no master key is configured; set ") + kMasterKeyEnvVar + " or a key file");
  }

  const std::string& path = options.generated_key_file;
  auto existing = KeyringFromFile(path);
  if (existing.ok()) return LoadedKeyring{std::move(*existing), KeySource::kKeyFile, path};
  if (existing.error().code != ErrorCode::kNotFound) return existing.error();

  auto generated = GenerateKeyFile(path, random);
  if (generated.ok()) {
    return LoadedKeyring{std::move(*generated), KeySource::kGeneratedKeyFile, path};
  }
  if (generated.error().code != ErrorCode::kAlreadyExists) return generated.error();

  // Another process created the file between the read and the generation: use its key.
  auto raced = KeyringFromFile(path);
  if (!raced.ok()) return raced.error();
  return LoadedKeyring{std::move(*raced), KeySource::kKeyFile, path};
}

std::optional<std::string> MasterKeyFromEnv() {
  const char* value = std::getenv(kMasterKeyEnvVar);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace credgate::crypto
