// PolicyContext: the state of one request as policy statements see and change it. The gateway
// fills the request, api and operation parts before running inbound, fills `response` from the
// backend before running outbound, and reads `response` back when a section returns
// ExecutionOutcome::kRespond. Not thread-safe: one request owns one context.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policy/header_map.h"
#include "policy/response_examples.h"
#include "policy/value.h"

namespace credgate::crypto {
class Certificate;  // crypto/certificate.h
}  // namespace credgate::crypto

namespace credgate::policy {

struct RequestState {
  std::string method;  // "GET"
  std::string scheme;  // "https"
  std::string host;    // Host without the port.
  int port = 0;
  std::string path;          // Percent-encoded path, starting with '/'.
  std::string query_string;  // Without the '?'.
  HeaderMap headers;
  std::string body;
  std::string ip_address;  // Client address as text.
  // Values of the operation's URL template parameters, for example {"id", "42"}.
  std::vector<std::pair<std::string, std::string>> matched_parameters;
};

struct ApiState {
  std::string id;
  std::string name;
  std::string path;  // The API's URL suffix.
};

struct OperationState {
  std::string id;
  std::string name;
  std::string method;
  std::string url_template;
  // The operation's response examples for mock-response; null when it has none.
  std::shared_ptr<const ResponseExamples> response_examples;
};

struct ResponseState {
  int status_code = 200;
  std::string reason;
  HeaderMap headers;
  std::string body;
};

// context.Deployment: where this gateway runs.
struct DeploymentState {
  std::string region;
  std::string service_name;
  std::string service_id;
  std::string gateway_id;
};

// context.LastError as APIM defines it: the statement that failed and why.
struct LastErrorState {
  std::string source;   // Statement name, for example "get-authorization-context".
  std::string reason;   // Machine-readable reason, for example "ExpressionValueEvaluationFailure".
  std::string message;  // Text for people.
  std::string scope;    // "global", "api" or "operation".
  std::string section;  // "inbound", "backend", "outbound" or "on-error".
  std::string path;     // Statement path in its section, for example "choose[1]/when[1]/...".
  std::string policy_id;  // The statement's id attribute, or "".
};

// set-backend-service backend-id="dapr": the sidecar's /v1.0/invoke/{app_id[.namespace]}/method/
// {method}.
struct DaprInvocation {
  std::string app_id;
  std::string method;
  std::string namespace_name;  // Empty: the caller's namespace.
};

// Set by cache-lookup when it found no stored response: the cache key that cache-store stores
// the response under, and the Cache-Control the caller's response gets.
struct ResponseCacheState {
  std::string key;
  std::string downstream;  // "", "private" or "public".
  bool must_revalidate = true;
};

// Backend call settings that forward-request requested.
struct ForwardState {
  bool requested = false;
  bool timeout_set = false;
  std::chrono::milliseconds timeout{300'000};
  bool buffer_request_body = false;
  bool buffer_response = true;
  bool follow_redirects = false;
  bool fail_on_error_status_code = false;
};

class WindowCounters;  // policy/window_counters.h

// A quota-by-key bandwidth that let the request through: the gateway adds the request's bytes
// to it after the response (policy/bandwidth.h).
struct BandwidthCharge {
  std::shared_ptr<WindowCounters> counters;
  std::string key;
  std::chrono::seconds period{0};
  std::chrono::system_clock::time_point origin{};
  // When the statement ran. The bytes count in the window that contains this time.
  std::chrono::system_clock::time_point start{};
};

struct PolicyContext {
  RequestState request;
  std::string request_id;
  // When the gateway received the request: context.Timestamp, and the start of context.Elapsed.
  std::chrono::system_clock::time_point timestamp{};
  DeploymentState deployment;
  ApiState api;
  OperationState operation;
  std::unordered_map<std::string, Value> variables;
  ResponseState response;
  std::optional<LastErrorState> last_error;
  ForwardState forward;
  // Set by authentication-certificate: the client certificate that the backend call presents in
  // its TLS handshake. Null for none.
  std::shared_ptr<const crypto::Certificate> backend_client_certificate;
  // Set when a forward-request inside <retry> or <limit-concurrency>, or with follow-redirects,
  // called the backend and put its whole response into `response`. The gateway then sends no
  // request of its own.
  bool backend_responded = false;
  // Set when return-response or an error produced `response`; the gateway then skips the
  // backend and the remaining inbound statements.
  bool response_ready = false;
  // Set when a set-header or authentication-basic statement set or deleted the request's
  // Authorization header.
  bool authorization_set = false;

  // Set by rewrite-uri: the backend path (percent-encoded) that replaces the request's path
  // below the API, appended to the backend service URL's path.
  std::optional<std::string> backend_path;
  // Set by set-backend-service, at most one of the three. backend_url is the absolute URL that
  // replaces the API's backend service URL. backend_id names the backend resource whose URL and
  // credentials replace it, and dapr is the Dapr service invocation sent to the Dapr sidecar.
  std::optional<std::string> backend_url;
  std::optional<std::string> backend_id;
  std::optional<DaprInvocation> dapr;
  // Fields that statements add to the response the caller gets, whatever produces it: CORS
  // fields of an allowed cross-origin request, and the rate limit fields.
  HeaderMap added_response_headers;
  // Set by set-body in inbound or backend, and in outbound or on-error: the gateway sends
  // request.body or response.body in place of the streamed body.
  bool request_body_set = false;
  bool response_body_set = false;
  std::optional<ResponseCacheState> response_cache;
  // Filled by quota-by-key with a bandwidth; empty for every other request.
  std::vector<BandwidthCharge> bandwidth_charges;
};

}  // namespace credgate::policy
