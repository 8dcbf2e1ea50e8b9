// ManagementService: the management REST API, independent of the HTTP transport. For each call
// it applies the failed-authentication limit of the peer, authenticates the caller (an admin
// key, or an administrator JWT when configured), checks that the caller's role allows the call
// (admin_roles.h), and then dispatches it. Writes validate each body once, go to the store, and
// only then reach the in-memory configuration that the gateway serves from: a change that fails
// validation, or whose store write fails, changes nothing. Every authenticated call other than
// GET is recorded in the audit log, with its outcome.
//
// Thread-safety: Handle() may run concurrently on several threads. Writes are serialised by
// ConfigState's writer mutex and the single store thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "management/admin_jwt.h"
#include "management/admin_keys.h"
#include "management/auth_failure_limiter.h"
#include "management/routes.h"
#include "runtime/services.h"

namespace credgate::management {

class TestConsole;

struct ManagementRequest {
  std::string method;  // Upper case.
  std::string target;  // Path and query, as received.
  std::string authorization;  // The Authorization header, or "".
  std::string body;
  std::string client_address;  // The peer's IP address; the failure limit is kept per address.
  std::string request_id;
};

struct ManagementResponse {
  int status = 200;
  std::string body;  // JSON, or "" for 204.
  // Seconds for a Retry-After header (RFC 9110 §10.2.3); 0 sends none.
  int64_t retry_after_seconds = 0;
};

struct ManagementSecurityOptions {
  AuthFailureLimits auth_failure_limits;
  // Validates administrator JWTs; null accepts admin keys only. Not owned.
  AdminJwtAuthenticator* admin_jwt = nullptr;
};

// Totals since start, for metrics.
struct ManagementCounters {
  std::atomic<uint64_t> unauthenticated{0};  // 401: missing, unknown or invalid credentials.
  std::atomic<uint64_t> rate_limited{0};     // 429: the peer failed too often.
  std::atomic<uint64_t> forbidden{0};        // 403: the role does not allow the call.
  std::atomic<uint64_t> exports{0};          // POST /export calls that returned a document.
  std::atomic<uint64_t> exports_failed{0};   // POST /export calls that failed.
  std::atomic<uint64_t> imports{0};          // POST /import calls that wrote the whole document.
  // POST /import calls that failed: a rejected document (nothing written) or a failed write.
  std::atomic<uint64_t> imports_failed{0};
};

class ManagementService {
 public:
  // `services.clock` must be set; the failure limit reads it.
  ManagementService(runtime::Services& services, AdminKeys& admin_keys,
                    ManagementSecurityOptions security = {});

  boost::asio::awaitable<ManagementResponse> Handle(ManagementRequest request);

  // Applies a PUT body to `path` without an admin key, for the resources declared in the
  // configuration file. Returns false, and writes nothing, when the resource is already stored
  // with the same content, so that applying the same file at every start changes nothing.
  // Errors name `path`.
  boost::asio::awaitable<Result<bool>> ApplyDeclared(std::string path, std::string body_json);

  // Serves POST /apis/{apiId}/test through `console`; without one that path gets 503. Call it
  // before the management listener starts. Not owned.
  void set_test_console(TestConsole* console) { test_console_ = console; }
  const TestConsole* test_console() const { return test_console_; }

  const ManagementCounters& counters() const { return counters_; }
  AuthFailureCounters auth_failure_counters() const { return limiter_.counters(); }

 private:
  boost::asio::awaitable<Result<AdminPrincipal>> Authenticate(const ManagementRequest& request);
  // `caller` names the admin key of the request, or is "" for declared resources.
  boost::asio::awaitable<Result<boost::json::value>> Dispatch(const std::string& method,
                                                              const ResourcePath& path,
                                                              const std::string& body,
                                                              const std::string& caller,
                                                              int& status);
  void Audit(const ManagementRequest& request, const AdminPrincipal& principal, int status);

  runtime::Services& services_;
  AdminKeys& admin_keys_;
  ManagementSecurityOptions security_;
  AuthFailureLimiter limiter_;
  ManagementCounters counters_;
  TestConsole* test_console_ = nullptr;
};

// Renders `error` as an ARM error body {"error":{"code","message"}}.
std::string RenderError(const Error& error);

}  // namespace credgate::management
