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

// Reports whether `policy` lets a caller use it through the client application `app_id`: its
// app_ids are empty or contain `app_id`.
bool PolicyAllowsApp(const AccessPolicy& policy, std::string_view app_id);

// Returns the kPermissionDenied error of a caller that no policy matches. `app_mismatch` is
// true when a policy named the caller's tenant and principal but not its app id.
Error AccessDeniedError(const CallerClaims& caller, bool app_mismatch,
                        std::string_view connection_key);

// Returns the id of the first policy in `policies` that matches `caller`. A policy matches
// when three conditions hold. Its tenant_id equals the caller's tenant id. Its object_id equals
// the caller's object id or, when groups are known, one of the caller's groups. Its app_ids are
// empty or contain the caller's app id. Ids compare ASCII case-insensitively.
//
// Errors: kPermissionDenied with reason "AccessDenied" and a message naming the caller, its
// tenant and `connection_key` ("provider/connection"); the message adds that groups were not
// checked when groups_known is false.
Result<std::string> MatchAccessPolicy(const CallerClaims& caller,
                                      std::span<const AccessPolicy> policies,
                                      std::string_view connection_key);

}  // namespace credgate::credentials
