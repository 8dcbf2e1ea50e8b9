#include "management/service.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "crypto/admin_key.h"
#include "management/declared.h"
#include "management/events_handler.h"
#include "management/handlers.h"
#include "management/security_handlers.h"
#include "management/test_console.h"
#include "management/transfer_handlers.h"
#include "runtime/audit_log.h"
#include "store/async_store.h"

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

ManagementService::ManagementService(runtime::Services& services, AdminKeys& admin_keys,
                                     ManagementSecurityOptions security)
    : services_(services),
      admin_keys_(admin_keys),
      security_(security),
      limiter_(*services.clock, security.auth_failure_limits) {}

boost::asio::awaitable<Result<AdminPrincipal>> ManagementService::Authenticate(
    const ManagementRequest& request) {
  auto unauthenticated = [] {
    return MakeError(ErrorCode::kUnauthenticated,
                     "missing or unknown admin key: send 'Authorization: Bearer <admin key>'",
                     "Unauthorized");
  };
  std::optional<Secret> credential = BearerCredential(request.authorization);
  if (!credential) co_return unauthenticated();

  const std::string digest = crypto::HashAdminKey(*credential);
  if (auto bootstrap = admin_keys_.FindBootstrap(digest)) co_return *bootstrap;

  if (security_.admin_jwt != nullptr &&
      AdminJwtAuthenticator::LooksLikeJwt(credential->Expose())) {
    std::string token(credential->Expose());
    co_return co_await security_.admin_jwt->Authenticate(std::move(token));
  }
  // Stored keys always have the generated shape, so nothing else is looked up.
  if (!crypto::IsWellFormedAdminKey(credential->Expose())) co_return unauthenticated();
  auto find = [digest](store::Store& s) { return s.FindAdminKeyByHash(digest); };
  auto record = co_await services_.store->Run(std::move(find));
  if (!record.ok()) {
    if (record.error().code == ErrorCode::kNotFound) co_return unauthenticated();
    co_return record.error();
  }
  co_return PrincipalOfRecord(*record);
}

boost::asio::awaitable<ManagementResponse> ManagementService::Handle(ManagementRequest request) {
  const std::string_view path_text = PathOf(request.target);
  if (auto wait = limiter_.RetryAfter(request.client_address)) {
    counters_.rate_limited.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("management request rate limited request_id={} client={} retry_after={}",
                  request.request_id, request.client_address, wait->count());
    ManagementResponse limited = ErrorResponse(MakeError(
        ErrorCode::kResourceExhausted,
        "too many failed authentications from " + request.client_address + "; retry after " +
            std::to_string(wait->count()) + " seconds",
        "TooManyRequests"));
    limited.retry_after_seconds = wait->count();
    co_return limited;
  }

  auto principal = co_await Authenticate(request);
  if (!principal.ok()) {
    const Error& error = principal.error();
    if (error.code == ErrorCode::kUnauthenticated) {
      counters_.unauthenticated.fetch_add(1, std::memory_order_relaxed);
      if (limiter_.RecordFailure(request.client_address)) {
        spdlog::warn("management client reached the failed authentication limit client={} "
                     "max_failures={} window_seconds={} unauthenticated_total={}",
                     request.client_address, security_.auth_failure_limits.max_failures,
                     security_.auth_failure_limits.window.count(),
                     counters_.unauthenticated.load(std::memory_order_relaxed));
      }
      spdlog::warn("management request rejected: {} request_id={} client={} method={} path={}",
                   error.message, request.request_id, request.client_address, request.method,
                   path_text);
    } else if (error.code == ErrorCode::kPermissionDenied) {
      counters_.forbidden.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("management request forbidden request_id={} client={} method={} path={}: {}",
                   request.request_id, request.client_address, request.method, path_text,
                   error.message);
    } else {
      spdlog::error("management authentication failed request_id={} client={}: {}",
                    request.request_id, request.client_address, error.message);
    }
    co_return ErrorResponse(error);
  }

  Status allowed = CheckRoleAllows(
      principal->role, ClassifyOperation(request.method, path_text), principal->id);
  if (!allowed.ok()) {
    counters_.forbidden.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("management request forbidden request_id={} client={} method={} path={}: {}",
                 request.request_id, request.client_address, request.method, path_text,
                 allowed.error().message);
    if (request.method != "GET") Audit(request, *principal, 403);
    co_return ErrorResponse(allowed.error());
  }

  int status = 200;
  // The confirmation page of a login link names who created it.
  const std::string caller =
      (principal->kind == AdminPrincipal::Kind::kJwt ? "administrator '" : "admin key '") +
      principal->id + "'";
  Result<json::value> result = json::value(nullptr);
  if (IsSecurityPath(path_text)) {
    result =
        co_await HandleSecurityCall(services_, request.method, path_text, request.body, status);
  } else if (IsTransferPath(path_text)) {
    result =
        co_await HandleTransferCall(services_, request.method, path_text, request.body, status);
    if (request.method == "POST") {
      const bool is_export = IsExportPath(path_text);
      auto& counter = result.ok() ? (is_export ? counters_.exports : counters_.imports)
                                  : (is_export ? counters_.exports_failed : counters_.imports_failed);
      counter.fetch_add(1, std::memory_order_relaxed);
    }
  } else if (IsTestConsolePath(path_text)) {
    if (test_console_ == nullptr) {
      result = MakeError(ErrorCode::kUnavailable, "the test console is not available",
                         "ServiceUnavailable");
    } else {
      auto snapshot = services_.config->Current();
      result = co_await test_console_->Handle(*snapshot, request.method, path_text, request.body);
    }
  } else if (IsEventsPath(path_text)) {
    result = co_await HandleEventsCall(services_, request.method, request.target);
  } else {
    auto path = ParseResourcePath(path_text);
    if (path.ok()) {
      result = co_await Dispatch(request.method, *path, request.body, caller, status);
    } else {
      result = path.error();
    }
  }
  if (!result.ok()) {
    const Error& error = result.error();
    if (error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnavailable) {
      spdlog::error("management request failed request_id={} method={} path={}: {}",
                    request.request_id, request.method, path_text, error.message);
    }
    if (request.method != "GET") Audit(request, *principal, HttpStatusFor(error.code));
    co_return ErrorResponse(error);
  }
  if (request.method != "GET") {
    spdlog::info("management change applied request_id={} client={} principal={} method={} "
                 "path={} status={}",
                 request.request_id, request.client_address, principal->id, request.method,
                 path_text, status);
    Audit(request, *principal, status);
  }
  if (result->is_null()) co_return ManagementResponse{status, ""};
  co_return ManagementResponse{status, json::serialize(*result)};
}

void ManagementService::Audit(const ManagementRequest& request, const AdminPrincipal& principal,
                              int status) {
  if (services_.audit == nullptr) return;
  const std::string_view path_text = PathOf(request.target);
  json::object actor;
  switch (principal.kind) {
    case AdminPrincipal::Kind::kAdminKey:
      actor["type"] = "adminKey";
      break;
    case AdminPrincipal::Kind::kJwt:
      actor["type"] = "jwt";
      break;
    case AdminPrincipal::Kind::kDeclared:
      actor["type"] = "declared";
      break;
  }
  actor["id"] = principal.id;
  actor["role"] = AdminRoleName(principal.role);
  json::object event;
  event["event"] = "management.change";
  event["requestId"] = request.request_id;
  event["actor"] = std::move(actor);
  event["method"] = request.method;
  event["path"] = path_text;
  auto path = ParseResourcePath(path_text);
  if (path.ok() && StoreKey(*path).starts_with("authorizationProviders/")) {
    event["provider"] = path->first;
    if (!path->second.empty()) event["connection"] = path->first + "/" + path->second;
  }
  event["status"] = status;
  event["peer"] = request.client_address;
  services_.audit->Record(std::move(event));
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
  ManagementRequest declared;
  declared.method = "PUT";
  declared.target = path;
  Audit(declared, AdminPrincipal{AdminPrincipal::Kind::kDeclared, "config", AdminRole::kAdmin},
        status);
  co_return true;
}

boost::asio::awaitable<Result<json::value>> ManagementService::Dispatch(const std::string& method,
                                                                       const ResourcePath& path,
                                                                       const std::string& body,
                                                                       const std::string& caller,
                                                                       int& status) {
  Handlers handlers(services_);
  auto method_not_allowed = [&]() -> Result<json::value> {
    return MakeError(ErrorCode::kMethodNotAllowed,
                     "method " + method + " is not supported on this resource",
                     "MethodNotAllowed");
  };
  const bool is_collection =
      path.kind == ResourceKind::kProviders || path.kind == ResourceKind::kConnections ||
      path.kind == ResourceKind::kAccessPolicies || path.kind == ResourceKind::kTrustedIssuers ||
      path.kind == ResourceKind::kApis || path.kind == ResourceKind::kOperations ||
      path.kind == ResourceKind::kPolicyFragments || path.kind == ResourceKind::kBackends ||
      path.kind == ResourceKind::kCertificates;
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
