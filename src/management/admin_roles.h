// Roles of management API principals (admin keys and administrator JWTs) and the one table that
// decides which calls a role may make:
//
//   role      GET on resources   other changes   /adminKeys   /masterKeys   /export, /import
//   reader    yes                no              no           no            no
//   operator  yes                yes             no           no            no
//   admin     yes                yes             yes          yes           yes
//
// Admin-key management and master key rewrapping are admin-only for every method, GET
// included, because the list of keys shows an attacker which ids to target. Export and import
// are admin-only because the export document carries every secret and token.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace credgate::management {

enum class AdminRole { kReader, kOperator, kAdmin };

// The kind of a management call, as far as roles are concerned.
enum class ManagementOperation {
  kRead,                // GET on a resource other than the two below.
  kChange,              // PUT, POST or DELETE on a resource other than the two below.
  kAdminKeyManagement,  // Any method on /adminKeys.
  kMasterKeyRewrap,     // Any method on /masterKeys.
  kTransfer,            // Any method on /export or /import.
};

// Parses "reader", "operator" or "admin". Fails with kInvalidArgument listing the three.
Result<AdminRole> ParseAdminRole(std::string_view text);
std::string_view AdminRoleName(AdminRole role);

// Classifies a call by its method (upper case) and path (without the query string).
ManagementOperation ClassifyOperation(std::string_view method, std::string_view path);

// Returns OK when `role` allows `operation`, and kPermissionDenied with reason "Forbidden" and a
// message that names the principal, the role and the role the call needs otherwise.
Status CheckRoleAllows(AdminRole role, ManagementOperation operation,
                       std::string_view principal_id);

}  // namespace credgate::management
