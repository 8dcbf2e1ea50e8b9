#include "credentials/access_policy.h"

#include <algorithm>
#include <cctype>

namespace credgate::credentials {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

bool ContainsIgnoreCase(const std::vector<std::string>& values, std::string_view value) {
  return std::any_of(values.begin(), values.end(),
                     [&](const std::string& item) { return EqualsIgnoreCase(item, value); });
}

bool MatchesPrincipal(const AccessPolicy& policy, const CallerClaims& caller) {
  if (policy.object_id.empty()) return false;
  if (EqualsIgnoreCase(policy.object_id, caller.object_id)) return true;
  return caller.groups_known && ContainsIgnoreCase(caller.groups, policy.object_id);
}

}  // namespace

Result<std::string> MatchAccessPolicy(const CallerClaims& caller,
                                      std::span<const AccessPolicy> policies,
                                      std::string_view connection_key) {
  bool app_mismatch = false;
  for (const AccessPolicy& policy : policies) {
    if (policy.tenant_id.empty() || !EqualsIgnoreCase(policy.tenant_id, caller.tenant_id)) {
      continue;
    }
    if (!MatchesPrincipal(policy, caller)) continue;
    if (!policy.app_ids.empty() && !ContainsIgnoreCase(policy.app_ids, caller.app_id)) {
      app_mismatch = true;
      continue;
    }
    return policy.id;
  }

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

}  // namespace credgate::credentials
