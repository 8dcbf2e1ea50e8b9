#include "credentials/access_policy.h"

#include <algorithm>
#include <cctype>

namespace credgate::credentials {

bool IdsEqual(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

Error AccessDeniedError(const CallerClaims& caller, bool app_mismatch,
                        std::string_view connection_key) {
  std::string message = "caller " + caller.object_id + " in tenant " + caller.tenant_id;
  if (app_mismatch) message += " using app " + (caller.app_id.empty() ? "(none)" : caller.app_id);
  message += " is not allowed by any access policy of connection " + std::string(connection_key);
  if (!caller.groups_known) {
    message +=
        "; the caller's token reports a groups overage, so its group memberships are unknown and "
        "policies for groups could not match";
  }
  return MakeError(ErrorCode::kPermissionDenied, std::move(message), "AccessDenied");
}

Result<std::string> MatchAccessPolicy(const CallerClaims& caller,
                                      std::span<const AccessPolicy> policies,
                                      std::string_view connection_key) {
  return MatchFirstAccessPolicy(caller, policies, connection_key);
}

}  // namespace credgate::credentials
