// ManagementService: the management REST API, independent of the HTTP transport. It checks the
// admin key, validates each body once, writes the change to the store, and only then publishes
// it to the in-memory configuration that the gateway serves from. A change that fails
// validation, or whose store write fails, changes nothing.
//
// Thread-safety: Handle() may run concurrently on several threads. Writes are serialised by
// ConfigState's writer mutex and the single store thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "management/admin_keys.h"
#include "management/routes.h"
#include "runtime/services.h"

namespace credgate::management {

struct ManagementRequest {
  std::string method;  // Upper case.
  std::string target;  // Path and query, as received.
  std::string authorization;  // The Authorization header, or "".
  std::string body;
  std::string client_address;
  std::string request_id;
};

struct ManagementResponse {
  int status = 200;
  std::string body;  // JSON, or "" for 204.
};

class ManagementService {
 public:
  ManagementService(runtime::Services& services, AdminKeys& admin_keys);

  boost::asio::awaitable<ManagementResponse> Handle(ManagementRequest request);

  // Applies a PUT body to `path` without an admin key, for the resources declared in the
  // configuration file. Returns false, and writes nothing, when the resource is already stored
  // with the same content, so that applying the same file at every start changes nothing.
  // Errors name `path`.
  boost::asio::awaitable<Result<bool>> ApplyDeclared(std::string path, std::string body_json);

 private:
  // `caller` names the admin key of the request, or is "" for declared resources.
  boost::asio::awaitable<Result<boost::json::value>> Dispatch(const std::string& method,
                                                              const ResourcePath& path,
                                                              const std::string& body,
                                                              const std::string& caller,
                                                              int& status);

  runtime::Services& services_;
  AdminKeys& admin_keys_;
};

// Renders `error` as an ARM error body {"error":{"code","message"}}.
std::string RenderError(const Error& error);

}  // namespace credgate::management
