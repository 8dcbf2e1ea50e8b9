// AdminKeys: the admin API keys that authorise management calls, held in memory as their
// SHA-256 digests (crypto/admin_key.h explains why a plain digest is enough). The bootstrap key
// comes from CREDGATE_ADMIN_KEY or is generated into <data dir>/admin.key (mode 0600) on first
// start.
//
// Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::management {

class AdminKeys {
 public:
  void Add(const Secret& key);
  void AddHash(std::string hex_digest);
  // Returns whether `authorization` is "Bearer <key>" for a known key.
  bool Authorize(std::string_view authorization) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_set<std::string> digests_;
};

// Loads the bootstrap admin key from the environment variable CREDGATE_ADMIN_KEY, else from
// `<data_dir>/admin.key`, else generates that file. Sets `generated` when it wrote the file.
Result<Secret> LoadOrCreateBootstrapAdminKey(const std::string& data_dir, bool& generated);

}  // namespace credgate::management
