// Backends in the snapshot: storing one, finding the policy documents that name it in
// set-backend-service, and checking that every backend a document names exists.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "management/backend_resources.h"
#include "policy/document.h"
#include "runtime/state.h"

namespace credgate::management {

// Stores `backend` in `snapshot`. Sets `status` to 200 when a backend was replaced and 201 when
// it is new. Errors: kInvalidArgument when its URL does not parse.
Status SetBackend(runtime::Snapshot& snapshot, const BackendResource& backend, int& status);

// Returns the resource paths of the policies that name backend `id` in set-backend-service,
// for example "/apis/echo/policies/policy".
std::vector<std::string> BackendUsers(const runtime::Snapshot& snapshot, std::string_view id);

// Checks that `exists` returns true for every backend id that `document` names. Errors:
// kInvalidArgument with reason ValidationError naming the first missing backend.
Status RequireBackends(const policy::CompiledDocument& document,
                       const std::function<bool(const std::string&)>& exists);

}  // namespace credgate::management
