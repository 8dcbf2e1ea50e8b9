// The management API's own security resources, all admin-only (admin_roles.h):
//
//   GET    /adminKeys              the stored admin keys: id, role, creation time
//   PUT    /adminKeys/{id}         creates a key with {"properties":{"role":R}}; the response
//                                  carries the key text once, in properties.key
//   DELETE /adminKeys/{id}         revokes the key at once
//   GET    /masterKeys             the master key ids and the active one
//   POST   /masterKeys/rewrap      rewraps every sealed record under the active master key
//                                  (rewrap.h) and returns the counts
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "runtime/services.h"

namespace credgate::management {

// Returns true when `path` (without the query string) is below /adminKeys or /masterKeys.
bool IsSecurityPath(std::string_view path);

// Handles one call on a security path. Sets `status` as Handlers does: 201 for a created key,
// 200 for other successes, 204 for a DELETE of a key that does not exist. Errors: kNotFound for
// another path, kMethodNotAllowed (405) for another method, kInvalidArgument for
// an invalid id, role or body, kAlreadyExists ("Conflict") for a taken id.
boost::asio::awaitable<Result<boost::json::value>> HandleSecurityCall(runtime::Services& services,
                                                                      const std::string& method,
                                                                      std::string_view path,
                                                                      const std::string& body,
                                                                      int& status);

}  // namespace credgate::management
