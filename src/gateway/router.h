// Routing of a gateway request to an API and one of its operations: the API whose path is the
// longest prefix of the request path (on a segment boundary), then the operation whose method
// and URL template match the rest. Literal template segments win over parameters, and
// parameters over the '*' wildcard.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/state.h"

namespace credgate::gateway {

struct Route {
  std::shared_ptr<const runtime::ApiEntry> api;
  std::shared_ptr<const runtime::OperationEntry> operation;  // Null when no operation matched.
  std::string_view remainder;  // The path after the API's path, starting with '/' or empty.
  std::vector<std::pair<std::string, std::string>> parameters;  // Template parameters.
};

// Returns the route for `method` and `path` (without query). `route.api` is null when no API
// matches. Views in the result point into `path`.
Route MatchRoute(const runtime::Snapshot& snapshot, std::string_view method,
                 std::string_view path);

}  // namespace credgate::gateway
