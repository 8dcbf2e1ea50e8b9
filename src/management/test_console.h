// TestConsole: the management API's test console, POST /apis/{apiId}/test. It sends one request
// through this process's own gateway listener, as a caller would, and returns the gateway's
// response and the trace of the policy statements that ran (policy/trace.h):
//
//   request:  {"method": "GET", "path": "/whoami?x=1", "headers": [["Accept", "text/plain"]],
//              "callerToken": "<JWT>", "body": ""}
//   response: {"response": {"status": 200, "headers": [["Content-Type", "..."]], "body": "..."},
//              "trace": [{"section", "scope", "statement", "id", "path", "outcome", "detail"}]}
//
// `path` is below the API's path and may carry a query. `callerToken` is sent as
// "Authorization: Bearer <token>" and is never returned or logged. Only `method` is required.
//
// Thread-safe: Handle() may run concurrently.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/client.h"
#include "policy/trace.h"
#include "runtime/state.h"

namespace credgate::management {

// Totals since start, for metrics.
struct TestConsoleCounters {
  std::atomic<uint64_t> answered{0};  // Test requests that got a gateway response, any status.
  std::atomic<uint64_t> rejected{0};  // Invalid test request bodies (400).
  std::atomic<uint64_t> failed{0};    // The gateway could not be reached or timed out.
};

// Returns true when `path` (without the query string) is /apis/{apiId}/test.
bool IsTestConsolePath(std::string_view path);

class TestConsole {
 public:
  // `gateway_url` is the origin of this process's gateway listener, for example
  // "http://127.0.0.1:8080", without a trailing slash. `client` and `traces` must outlive the
  // console; the gateway must claim traces from the same registry.
  TestConsole(http::HttpClient& client, policy::TraceRegistry& traces, std::string gateway_url);

  // Handles one call on a test console path. Errors: kMethodNotAllowed for a method other than
  // POST, kNotFound for an unknown API, kInvalidArgument naming the invalid field of the body,
  // kResourceExhausted when too many test requests are running, and those of
  // http::HttpClient::Send() when the gateway cannot be reached.
  boost::asio::awaitable<Result<boost::json::value>> Handle(const runtime::Snapshot& snapshot,
                                                            const std::string& method,
                                                            std::string_view path,
                                                            const std::string& body);

  const TestConsoleCounters& counters() const { return counters_; }

 private:
  http::HttpClient& client_;
  policy::TraceRegistry& traces_;
  std::string gateway_url_;
  TestConsoleCounters counters_;
};

}  // namespace credgate::management
