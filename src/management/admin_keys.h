// AdminKeys: the admin API keys that authorise management calls, held in memory as their
// SHA-256 digests (crypto/admin_key.h explains why a plain digest is enough). The bootstrap key
// comes from CREDGATE_ADMIN_KEY or is generated into <data dir>/admin.key (mode 0600) on first
// start.
//
// Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::management {

inline constexpr std::string_view kBootstrapAdminKeyId = "bootstrap";

class AdminKeys {
 public:
  // Adds a key under `id`, the name that logs and confirmation pages show for its caller.
  void Add(const Secret& key, std::string id = std::string(kBootstrapAdminKeyId));
  void AddHash(std::string hex_digest, std::string id);
  // Returns the id of the key when `authorization` is "Bearer <key>" for a known key.
  std::optional<std::string> Identify(std::string_view authorization) const;
  // Returns whether `authorization` is "Bearer <key>" for a known key.
  bool Authorize(std::string_view authorization) const {
    return Identify(authorization).has_value();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> ids_by_digest_;
};

// Loads the bootstrap admin key from the environment variable CREDGATE_ADMIN_KEY, else from
// `<data_dir>/admin.key`, else generates that file. Sets `generated` when it wrote the file.
Result<Secret> LoadOrCreateBootstrapAdminKey(const std::string& data_dir, bool& generated);

}  // namespace credgate::management
