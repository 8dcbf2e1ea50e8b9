#include "common/error.h"

namespace credgate {

namespace {

struct ErrorCodeInfo {
  ErrorCode code;
  std::string_view name;
  int http_status;
};

constexpr ErrorCodeInfo kErrorCodes[] = {
    {ErrorCode::kInvalidArgument, "InvalidArgument", 400},
    {ErrorCode::kUnauthenticated, "Unauthenticated", 401},
    {ErrorCode::kPermissionDenied, "PermissionDenied", 403},
    {ErrorCode::kNotFound, "NotFound", 404},
    {ErrorCode::kMethodNotAllowed, "MethodNotAllowed", 405},
    {ErrorCode::kAlreadyExists, "AlreadyExists", 409},
    {ErrorCode::kConflict, "Conflict", 409},
    {ErrorCode::kFailedPrecondition, "FailedPrecondition", 412},
    {ErrorCode::kResourceExhausted, "ResourceExhausted", 429},
    {ErrorCode::kUnavailable, "Unavailable", 503},
    {ErrorCode::kDeadlineExceeded, "DeadlineExceeded", 504},
    {ErrorCode::kBadGateway, "BadGateway", 502},
    {ErrorCode::kInternal, "Internal", 500},
};

const ErrorCodeInfo& InfoFor(ErrorCode code) {
  for (const auto& info : kErrorCodes) {
    if (info.code == code) return info;
  }
  return kErrorCodes[std::size(kErrorCodes) - 1];
}

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) { return InfoFor(code).name; }

int HttpStatusFor(ErrorCode code) { return InfoFor(code).http_status; }

}  // namespace credgate
