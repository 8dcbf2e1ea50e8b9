// BackendTarget: where the gateway sends a request once its policies ran. set-backend-service
// chooses a URL, a backend resource with credentials that the gateway adds, or a Dapr service
// invocation through the sidecar. Without it the request goes to the API's service URL.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/exchange.h"
#include "http/url.h"
#include "policy/context.h"
#include "runtime/services.h"
#include "runtime/state.h"

namespace credgate::gateway {

struct BackendTarget {
  std::optional<http::ParsedUrl> service;  // nullopt: the API's service URL.
  // The path that replaces the request's path below the API, set for Dapr, whose method is the
  // whole path. nullopt keeps the request's path, or the one that rewrite-uri set.
  std::optional<std::string> path;
  // The backend resource whose credentials go on the request; null for none.
  std::shared_ptr<const runtime::BackendEntry> backend;
};

// Resolves the target of `context` in `snapshot`. A Dapr invocation goes to
// {settings.dapr_sidecar_url}/v1.0/invoke/{app-id}[.{namespace}]/method/{method}, with the
// app id and namespace percent-encoded and the method's '/' kept. Errors: kNotFound with reason
// BackendNotFound when an expression named a backend that does not exist, kInvalidArgument when
// a policy's URL does not parse.
Result<BackendTarget> ResolveBackendTarget(const runtime::Snapshot& snapshot,
                                           const policy::PolicyContext& context,
                                           const runtime::Settings& settings);

// Adds the credentials of `backend`: each header replaces the caller's field of that name, the
// authorization replaces the Authorization header, and the query parameters are appended to
// `query` (encoded, without '?').
void ApplyBackendCredentials(const management::BackendResource& backend,
                             http::RequestHeader& header, std::string& query);

}  // namespace credgate::gateway
