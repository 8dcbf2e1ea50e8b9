#include "management/service.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "management/declared.h"
#include "management/handlers.h"

namespace credgate::management {

namespace json = boost::json;

namespace {

// Strips the query string; every query parameter, api-version among them, is ignored.
std::string_view PathOf(std::string_view target) {
  size_t query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

ManagementResponse ErrorResponse(const Error& error) {
  return ManagementResponse{HttpStatusFor(error.code), RenderError(error)};
}

}  // namespace

std::string RenderError(const Error& error) {
  json::object inner;
  inner["code"] = error.reason.empty() ? std::string(ErrorCodeName(error.code)) : error.reason;
  inner["message"] = error.message;
  json::object outer;
  outer["error"] = std::move(inner);
  return json::serialize(outer);
}

ManagementService::ManagementService(runtime::Services& services, AdminKeys& admin_keys)
    : services_(services), admin_keys_(admin_keys) {}

boost::asio::awaitable<ManagementResponse> ManagementService::Handle(ManagementRequest request) {
  const std::optional<std::string> key_id = admin_keys_.Identify(request.authorization);
  if (!key_id) {
    spdlog::warn("management request rejected: missing or unknown admin key request_id={} "
                 "client={} method={} path={}",
                 request.request_id, request.client_address, request.method,
                 PathOf(request.target));
    co_return ErrorResponse(MakeError(ErrorCode::kUnauthenticated,
                                      "missing or unknown admin key: send 'Authorization: Bearer "
                                      "<admin key>'",
                                      "Unauthorized"));
  }
  auto path = ParseResourcePath(PathOf(request.target));
  if (!path.ok()) co_return ErrorResponse(path.error());

  int status = 200;
  const std::string caller = "admin key '" + *key_id + "'";
  auto result = co_await Dispatch(request.method, *path, request.body, caller, status);
  if (!result.ok()) {
    const Error& error = result.error();
    if (error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnavailable) {
      spdlog::error("management request failed request_id={} method={} path={}: {}",
                    request.request_id, request.method, PathOf(request.target), error.message);
    }
    co_return ErrorResponse(error);
  }
  if (request.method != "GET") {
    spdlog::info("management change applied request_id={} client={} method={} path={} status={}",
                 request.request_id, request.client_address, request.method,
                 PathOf(request.target), status);
  }
  if (result->is_null()) co_return ManagementResponse{status, ""};
  co_return ManagementResponse{status, json::serialize(*result)};
}

boost::asio::awaitable<Result<bool>> ManagementService::ApplyDeclared(std::string path,
                                                                      std::string body_json) {
  auto declared_error = [&path](const Error& error) {
    return MakeError(error.code, "declared resource '" + path + "': " + error.message);
  };
  auto parsed_path = ParseResourcePath(path);
  if (!parsed_path.ok()) co_return declared_error(parsed_path.error());
  auto body = ParseJsonBody(body_json);
  if (body.ok() && MatchesStored(*services_.config->Current(), *parsed_path, *body)) {
    spdlog::debug("declared resource unchanged path={}", path);
    co_return false;
  }
  int status = 200;
  const std::string no_caller;
  auto result = co_await Dispatch("PUT", *parsed_path, body_json, no_caller, status);
  if (!result.ok()) co_return declared_error(result.error());
  spdlog::info("declared resource applied path={} status={}", path, status);
  co_return true;
}

boost::asio::awaitable<Result<json::value>> ManagementService::Dispatch(const std::string& method,
                                                                       const ResourcePath& path,
                                                                       const std::string& body,
                                                                       const std::string& caller,
                                                                       int& status) {
  Handlers handlers(services_);
  auto method_not_allowed = [&]() -> Result<json::value> {
    return MakeError(ErrorCode::kInvalidArgument,
                     "method " + method + " is not supported on this resource",
                     "MethodNotAllowed");
  };
  const bool is_collection =
      path.kind == ResourceKind::kProviders || path.kind == ResourceKind::kConnections ||
      path.kind == ResourceKind::kAccessPolicies || path.kind == ResourceKind::kTrustedIssuers ||
      path.kind == ResourceKind::kApis || path.kind == ResourceKind::kOperations;
  if (is_collection) {
    if (method != "GET") co_return method_not_allowed();
    co_return handlers.List(path);
  }
  if (path.kind == ResourceKind::kLoginLinks) {
    if (method != "POST") co_return method_not_allowed();
    co_return handlers.CreateLoginLink(path, body, caller);
  }
  if (path.kind == ResourceKind::kConfirmConsentCode) {
    if (method != "POST") co_return method_not_allowed();
    co_return handlers.ConfirmConsentCode(path, body);
  }
  if (method == "GET") co_return handlers.Get(path);
  if (method == "PUT") co_return co_await handlers.Put(path, body, status);
  if (method == "DELETE") co_return co_await handlers.Delete(path, status);
  co_return method_not_allowed();
}

}  // namespace credgate::management
