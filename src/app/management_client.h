// A minimal blocking HTTP/1.1 client for the CLI subcommands that call a running credgate's
// management API (`credgate admin-key ... --management-url`, `credgate keys rewrap` and the
// resource commands such as `credgate provider list`), one request per connection. An https URL
// verifies the server against the system trust store and, when CREDGATE_MANAGEMENT_CA_FILE names
// a PEM file, the CA certificates in it.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <string>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::app {

struct ManagementReply {
  int status = 0;
  std::string body;
};

// Sends `method path` with `Authorization: Bearer <admin_key>` and, when `body` is not empty, a
// JSON body, to `base_url` (http://host:port or https://host:port). Fails with kInvalidArgument
// for a URL of another form or an unreadable CREDGATE_MANAGEMENT_CA_FILE, and with kUnavailable
// or kDeadlineExceeded when the server cannot be reached, fails the TLS handshake or sends no
// response within `timeout`. Any HTTP status is a successful reply.
Result<ManagementReply> SendManagementRequest(const std::string& base_url,
                                              const std::string& method, const std::string& path,
                                              const Secret& admin_key, const std::string& body,
                                              std::chrono::seconds timeout);

// Sends the request as SendManagementRequest does and returns the parsed JSON body of a 2xx
// reply ({} for an empty body). Any other status fails with kFailedPrecondition and a message
// that names the method, path and status and carries the server's error message; a 2xx body
// that is not JSON fails with kInternal.
Result<boost::json::value> CallManagementApi(const std::string& base_url,
                                             const std::string& method, const std::string& path,
                                             const Secret& admin_key, const std::string& body,
                                             std::chrono::seconds timeout);

}  // namespace credgate::app
