// Access policy matching: decides whether a caller, identified by the claims of its validated
// JWT, may use a connection.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "credentials/model.h"

namespace credgate::credentials {

// The claims of a validated caller token (Entra ID names in brackets).
struct CallerClaims {
  std::string object_id;            // [oid]
  std::string tenant_id;            // [tid]
  std::vector<std::string> groups;  // [groups] object ids.
  // False when the token carries a groups overage claim (_claim_names) instead of the list.
  bool groups_known = true;
  std::string app_id;  // [appid] or [azp]
};

// Reports whether two ids are equal when compared ASCII case-insensitively.
bool IdsEqual(std::string_view a, std::string_view b);

// Reports whether `values` (strings or string views) contains `value`, compared as IdsEqual does.
template <typename Strings>
bool ContainsId(const Strings& values, std::string_view value) {
  for (std::string_view item : values) {
    if (IdsEqual(item, value)) return true;
  }
  return false;
}

// Reports whether `policy` lets a caller use it through the client application `app_id`: its
// app_ids are empty or contain `app_id`. `Policy` is AccessPolicy or a view with its members.
template <typename Policy>
bool PolicyAllowsApp(const Policy& policy, std::string_view app_id) {
  return policy.app_ids.empty() || ContainsId(policy.app_ids, app_id);
}

// Returns the kPermissionDenied error of a caller that no policy matches. `app_mismatch` is
// true when a policy named the caller's tenant and principal but not its app id.
Error AccessDeniedError(const CallerClaims& caller, bool app_mismatch,
                        std::string_view connection_key);

// Returns the id of the first policy in `policies` that matches `caller`. A policy matches
// when three conditions hold. Its tenant_id equals the caller's tenant id. Its object_id equals
// the caller's object id or, when groups are known, one of the caller's groups. Its app_ids are
// empty or contain the caller's app id. Ids compare ASCII case-insensitively.
//
// `Policies` is a range of AccessPolicy or of views with its members (AccessPolicyView).
//
// Errors: kPermissionDenied with reason "AccessDenied" and a message naming the caller, its
// tenant and `connection_key` ("provider/connection"); the message adds that groups were not
// checked when groups_known is false.
template <typename Policies>
Result<std::string> MatchFirstAccessPolicy(const CallerClaims& caller, const Policies& policies,
                                           std::string_view connection_key) {
  bool app_mismatch = false;
  for (const auto& policy : policies) {
    const std::string_view tenant_id = policy.tenant_id;
    const std::string_view object_id = policy.object_id;
    if (tenant_id.empty() || !IdsEqual(tenant_id, caller.tenant_id)) continue;
    if (object_id.empty()) continue;
    const bool principal = IdsEqual(object_id, caller.object_id) ||
                           (caller.groups_known && ContainsId(caller.groups, object_id));
    if (!principal) continue;
    if (!PolicyAllowsApp(policy, caller.app_id)) {
      app_mismatch = true;
      continue;
    }
    return std::string(policy.id);
  }
  return AccessDeniedError(caller, app_mismatch, connection_key);
}

// MatchFirstAccessPolicy over a span of policies.
Result<std::string> MatchAccessPolicy(const CallerClaims& caller,
                                      std::span<const AccessPolicy> policies,
                                      std::string_view connection_key);

}  // namespace credgate::credentials
