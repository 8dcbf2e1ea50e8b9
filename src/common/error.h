// The one error type of credgate. Every fallible call returns Result<T> (result.h) carrying an
// Error on failure; nothing on the request path throws. HttpStatusFor() is the single table that
// maps an error code to an HTTP status, for the management API and the gateway alike.
#pragma once

#include <string>
#include <string_view>

namespace credgate {

enum class ErrorCode {
  kInvalidArgument,     // The caller sent a malformed or out-of-range value.
  kUnauthenticated,     // Credentials are missing or invalid.
  kPermissionDenied,    // Credentials are valid but do not grant the operation.
  kNotFound,            // The named resource does not exist.
  kMethodNotAllowed,    // The resource exists but does not take this HTTP method.
  kAlreadyExists,       // A create found the resource already there.
  kConflict,            // The resource changed concurrently, or its state forbids the change.
  kFailedPrecondition,  // The system is not in a state that allows the operation.
  kResourceExhausted,   // A limit or quota was reached.
  kUnavailable,         // A dependency (provider, backend, store) could not be reached.
  kDeadlineExceeded,    // A dependency did not answer in time.
  kBadGateway,          // A dependency answered with something unusable.
  kInternal,            // A bug or an unexpected failure inside credgate.
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // A stable machine-readable reason, for example "Unauthenticated" on a connection or
  // "InvalidJwt" on a rejected caller. Empty when the code alone says enough.
  std::string reason = {};
  // Diagnostics for administrators, for example a dependency's response body with its secrets
  // redacted. Shown on management resources and in logs, never sent to API callers.
  std::string details = {};
};

// Returns the canonical name of `code`, for example "InvalidArgument".
std::string_view ErrorCodeName(ErrorCode code);

// Returns the HTTP status code that a response carrying `code` uses.
int HttpStatusFor(ErrorCode code);

inline Error MakeError(ErrorCode code, std::string message, std::string reason = {}) {
  return Error{code, std::move(message), std::move(reason)};
}

}  // namespace credgate
