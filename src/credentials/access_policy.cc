#include "credentials/access_policy.h"

#include <algorithm>
#include <cctype>

namespace credgate::credentials {

namespace {

bool ContainsIgnoreCase(const std::vector<std::string>& values, std::string_view value) {
  return std::any_of(values.begin(), values.end(),
                     [&](const std::string& item) { return IdsEqual(item, value); });
}

bool MatchesPrincipal(const AccessPolicy& policy, const CallerClaims& caller) {
  if (policy.object_id.empty()) return false;
  if (IdsEqual(policy.object_id, caller.object_id)) return true;
  return caller.groups_known && ContainsIgnoreCase(caller.groups, policy.object_id);
}

}  // namespace

bool IdsEqual(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

bool PolicyAllowsApp(const AccessPolicy& policy, std::string_view app_id) {
  return policy.app_ids.empty() || ContainsIgnoreCase(policy.app_ids, app_id);
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
  bool app_mismatch = false;
  for (const AccessPolicy& policy : policies) {
    if (policy.tenant_id.empty() || !IdsEqual(policy.tenant_id, caller.tenant_id)) continue;
    if (!MatchesPrincipal(policy, caller)) continue;
    if (!PolicyAllowsApp(policy, caller.app_id)) {
      app_mismatch = true;
      continue;
    }
    return policy.id;
  }
  return AccessDeniedError(caller, app_mismatch, connection_key);
}

}  // namespace credgate::credentials
