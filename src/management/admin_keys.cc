#include "management/admin_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/random.h"
#include "crypto/admin_key.h"

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

void AdminKeys::Add(const Secret& key, std::string id) {
  AddHash(crypto::HashAdminKey(key), std::move(id));
}

void AdminKeys::AddHash(std::string hex_digest, std::string id) {
  std::lock_guard lock(mutex_);
  ids_by_digest_.insert_or_assign(std::move(hex_digest), std::move(id));
}

std::optional<std::string> AdminKeys::Identify(std::string_view authorization) const {
  if (authorization.size() <= kBearerPrefix.size() ||
      authorization.substr(0, kBearerPrefix.size()) != kBearerPrefix) {
    return std::nullopt;
  }
  std::string digest =
      crypto::HashAdminKey(Secret(std::string(authorization.substr(kBearerPrefix.size()))));
  std::lock_guard lock(mutex_);
  auto it = ids_by_digest_.find(digest);
  if (it == ids_by_digest_.end()) return std::nullopt;
  return it->second;
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
                       "admin key file '" + path + "' holds fewer than 16 characters: delete it "
                       "to generate a new key, or write a long random value into it");
    }
    return Secret(std::move(key));
  }
  OpenSslRandom random;
  Secret key = crypto::GenerateAdminKey(random);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable, "cannot create admin key file '" + path +
                                                  "': " + std::strerror(errno));
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
