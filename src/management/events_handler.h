// GET /events: the connection events (events/connection_event.h), oldest first, for polling.
//
//   GET /events?after=<cursor>&limit=<n>
//     -> 200 {"value": [events], "nextCursor": "<cursor>"}
//
// `after` is the nextCursor of the previous page (default 0, the oldest event kept); `limit` is
// 1 to 1000 (default 100). A page with fewer than `limit` events is the end for now, and the
// same cursor returns the events recorded later. Readable by every admin role.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "runtime/services.h"

namespace credgate::management {

// Returns true when `path` (without the query string) is /events.
bool IsEventsPath(std::string_view path);

// Handles one call to /events. `target` is the request target with its query string. Errors:
// kMethodNotAllowed for a method other than GET, kInvalidArgument for a bad `after` or `limit`,
// kUnavailable when the store cannot be read.
boost::asio::awaitable<Result<boost::json::value>> HandleEventsCall(runtime::Services& services,
                                                                    const std::string& method,
                                                                    std::string_view target);

}  // namespace credgate::management
