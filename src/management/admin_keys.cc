#include "management/admin_keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "crypto/admin_key.h"
#include "crypto/aead.h"

namespace credgate::management {

namespace {

constexpr std::string_view kBearerPrefix = "Bearer ";
constexpr size_t kMinKeyLength = 16;

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

}  // namespace

void AdminKeys::Add(const Secret& key) {
  std::string digest = crypto::HashAdminKey(key);
  std::lock_guard lock(mutex_);
  digests_.insert(std::move(digest));
}

std::optional<AdminPrincipal> AdminKeys::FindBootstrap(const std::string& digest) const {
  std::lock_guard lock(mutex_);
  if (!digests_.contains(digest)) return std::nullopt;
  return AdminPrincipal{AdminPrincipal::Kind::kAdminKey, kBootstrapAdminKeyId, AdminRole::kAdmin};
}

std::optional<Secret> BearerCredential(std::string_view authorization) {
  if (authorization.size() <= kBearerPrefix.size() ||
      authorization.substr(0, kBearerPrefix.size()) != kBearerPrefix) {
    return std::nullopt;
  }
  return Secret(std::string(authorization.substr(kBearerPrefix.size())));
}

Status ValidateAdminKeyId(std::string_view id) {
  // Admin key ids share the character set of master key ids.
  if (!crypto::IsValidKeyId(id)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid admin key id '" + std::string(id) +
                         "': use 1 to 64 characters of letters, digits, '.', '_' and '-'");
  }
  if (id == kBootstrapAdminKeyId) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "admin key id 'bootstrap' is reserved for the key from CREDGATE_ADMIN_KEY or "
                     "admin.key; choose another id");
  }
  return OkStatus();
}

Result<CreatedAdminKey> CreateAdminKey(store::Store& store, std::string_view id, AdminRole role,
                                       RandomSource& random, TimePoint now) {
  CREDGATE_RETURN_IF_ERROR(ValidateAdminKeyId(id));
  Secret key = crypto::GenerateAdminKey(random);
  store::AdminKeyRecord record{std::string(id), crypto::HashAdminKey(key),
                               std::string(AdminRoleName(role)), ToUnixSeconds(now)};
  Status stored = store.PutAdminKey(record);
  if (!stored.ok()) {
    if (stored.error().code == ErrorCode::kAlreadyExists) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "admin key '" + std::string(id) +
                           "' already exists; revoke it first or choose another id",
                       "Conflict");
    }
    return stored.error();
  }
  return CreatedAdminKey{std::move(record), std::move(key)};
}

Result<AdminPrincipal> PrincipalOfRecord(const store::AdminKeyRecord& record) {
  auto role = ParseAdminRole(record.role);
  if (!role.ok()) {
    return MakeError(ErrorCode::kInternal,
                     "stored admin key '" + record.id + "' has unknown role '" + record.role + "'");
  }
  return AdminPrincipal{AdminPrincipal::Kind::kAdminKey, record.id, *role};
}

Result<Secret> LoadOrCreateBootstrapAdminKey(const std::string& data_dir, bool& generated) {
  generated = false;
  if (const char* from_env = std::getenv("CREDGATE_ADMIN_KEY"); from_env && *from_env) {
    std::string key = from_env;
    if (key.size() < kMinKeyLength) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "CREDGATE_ADMIN_KEY is shorter than 16 characters: use a long random "
                       "value, for example the output of 'openssl rand -base64 32'");
    }
    return Secret(std::move(key));
  }
  const std::string path = data_dir + "/admin.key";
  std::ifstream existing(path);
  if (existing) {
    std::stringstream content;
    content << existing.rdbuf();
    std::string key = Trim(content.str());
    if (key.size() < kMinKeyLength) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "admin key file '" + path +
                           "' holds fewer than 16 characters: delete it "
                           "to generate a new key, or write a long random value into it");
    }
    return Secret(std::move(key));
  }
  OpenSslRandom random;
  Secret key = crypto::GenerateAdminKey(random);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot create admin key file '" + path + "': " + std::strerror(errno));
  }
  std::string line = std::string(key.Expose()) + "\n";
  ssize_t written = ::write(fd, line.data(), line.size());
  OPENSSL_cleanse(line.data(), line.size());
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size()) || !synced) {
    ::unlink(path.c_str());
    return MakeError(ErrorCode::kUnavailable, "cannot write admin key file '" + path + "'");
  }
  generated = true;
  return key;
}

}  // namespace credgate::management
