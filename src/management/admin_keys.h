// Admin API keys: the bearer credentials of the management API. Keys are held only as their
// SHA-256 digests (crypto/admin_key.h explains why a plain digest is enough).
//
// Two kinds exist. The bootstrap key comes from CREDGATE_ADMIN_KEY or <data dir>/admin.key
// (generated with mode 0600 on first start), lives in memory only, has the id "bootstrap" and
// the admin role. Every other key is a store record with an id and a role, created and revoked
// through the management API (/adminKeys) or `credgate admin-key`. The management API looks a
// presented key up in the store on each call, so a key created or revoked by another process
// takes effect at once.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "management/admin_roles.h"
#include "store/store.h"

namespace credgate::management {

inline constexpr char kBootstrapAdminKeyId[] = "bootstrap";

// The authenticated caller of a management call.
struct AdminPrincipal {
  // kDeclared is the configuration file, whose declared resources are applied at start.
  enum class Kind { kAdminKey, kJwt, kDeclared };
  Kind kind = Kind::kAdminKey;
  std::string id;  // The admin key id, the `sub` of an administrator JWT, or the config file.
  AdminRole role = AdminRole::kReader;
};

// The bootstrap keys held in memory. Thread-safe.
class AdminKeys {
 public:
  void Add(const Secret& key);
  // Returns the bootstrap principal when `digest` (HashAdminKey output) is a bootstrap key.
  std::optional<AdminPrincipal> FindBootstrap(const std::string& digest) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_set<std::string> digests_;
};

// Returns the key text of an "Authorization: Bearer <key>" header value, or nullopt.
std::optional<Secret> BearerCredential(std::string_view authorization);

// Loads the bootstrap admin key from the environment variable CREDGATE_ADMIN_KEY, else from
// `<data_dir>/admin.key`, else generates that file. Sets `generated` when it wrote the file.
Result<Secret> LoadOrCreateBootstrapAdminKey(const std::string& data_dir, bool& generated);

// Checks an admin key id: 1 to 64 characters of [A-Za-z0-9._-], and not "bootstrap". Fails
// with kInvalidArgument naming the id.
Status ValidateAdminKeyId(std::string_view id);

// A key just created: the stored record and the key text, which exists nowhere else.
struct CreatedAdminKey {
  store::AdminKeyRecord record;
  Secret key;
};

// Generates a key, stores its digest under `id` with `role`, and returns the key. Fails as
// ValidateAdminKeyId, or with kAlreadyExists when the id is taken.
Result<CreatedAdminKey> CreateAdminKey(store::Store& store, std::string_view id, AdminRole role,
                                       RandomSource& random, TimePoint now);

// Returns the principal of a stored key. Fails with kInternal when the stored role is unknown.
Result<AdminPrincipal> PrincipalOfRecord(const store::AdminKeyRecord& record);

}  // namespace credgate::management
