// The management API's moving and backing up calls, both admin-only (admin_roles.h) because the
// document carries every secret of the instance:
//
//   POST /export   {"exportKey": K}
//                  returns the export document (transfer.h) with every secret and token sealed
//                  under K, a base64 32-byte key (crypto/export_seal.h)
//   POST /import   {"exportKey": K, "document": D, "mode": "create-only"|"replace"}
//                  validates all of D first and writes nothing when any part is invalid; then
//                  stores every resource as its PUT would, and each connection's tokens sealed
//                  under the active master key, in one store transaction. Only after the commit
//                  does it change memory and hand the tokens to the token manager. Returns
//                  {"created": n, "replaced": n, "tokens": n}. "mode" defaults to "create-only".
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "runtime/services.h"

namespace credgate::management {

// Returns true when `path` (without the query string) is /export or /import.
bool IsTransferPath(std::string_view path);
// Returns true when `path` (without the query string) is /export.
bool IsExportPath(std::string_view path);

// Handles one call on a transfer path; `status` is 200 on success. Errors: kMethodNotAllowed for
// a method other than POST, kInvalidArgument for an invalid body, key or document (the message
// names the resource path and field), kAlreadyExists for a resource that exists in create-only
// mode, and the store's errors. A store failure stores nothing and leaves memory unchanged. Its
// message starts with the resource path of the item whose write failed, when the store names it.
boost::asio::awaitable<Result<boost::json::value>> HandleTransferCall(runtime::Services& services,
                                                                      const std::string& method,
                                                                      std::string_view path,
                                                                      const std::string& body,
                                                                      int& status);

}  // namespace credgate::management
