#include "management/test_console.h"

#include <spdlog/spdlog.h>

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <vector>

#include "management/resources.h"

namespace credgate::management {

namespace json = boost::json;

namespace {

constexpr size_t kMaxPathBytes = 8 * 1024;
constexpr size_t kMaxHeaders = 50;
constexpr size_t kMaxHeaderBytes = 8 * 1024;
constexpr size_t kMaxBodyBytes = 1 << 20;
constexpr std::chrono::seconds kTimeout{30};

// Fields that the HTTP client sets itself, and the trace header, which only the console sets.
constexpr std::string_view kReservedHeaders[] = {
    "host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "trailer",
    "keep-alive", "proxy-connection", policy::kTraceHeader};

// Returns the API id of /apis/{apiId}/test, or "" for another path.
std::string_view ApiIdOf(std::string_view path) {
  constexpr std::string_view kPrefix = "/apis/";
  constexpr std::string_view kSuffix = "/test";
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return {};
  std::string_view id = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  if (id.empty() || id.find('/') != std::string_view::npos) return {};
  return id;
}

Error Invalid(std::string field, std::string problem) {
  return MakeError(ErrorCode::kInvalidArgument, field + " " + problem, "ValidationError");
}

// RFC 9110 §5.6.2: a method or field name is a token.
bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// A field value or request target must not end the header line or the header block.
bool HasLineBreakOrNul(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsReserved(std::string_view name) {
  for (std::string_view reserved : kReservedHeaders) {
    if (boost::beast::iequals(name, reserved)) return true;
  }
  return false;
}

// Reads an optional string member of `body` into *out.
Status ReadString(const json::object& body, std::string_view name, std::string* out) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr || value->is_null()) return OkStatus();
  if (!value->is_string()) return Invalid(std::string(name), "must be a string");
  *out = std::string(value->as_string());
  return OkStatus();
}

struct TestRequest {
  std::string method;
  std::string path = "/";
  http::HeaderList headers;
  std::string caller_token;
  std::string body;
};

Result<TestRequest> ParseTestRequest(std::string_view text) {
  auto parsed = ParseJsonBody(text);
  if (!parsed.ok()) return parsed.error();
  const json::object& body = *parsed;
  for (const auto& member : body) {
    const std::string_view key = member.key();
    if (key != "method" && key != "path" && key != "headers" && key != "callerToken" &&
        key != "body") {
      return Invalid(std::string(key), "is not a test request field: use method, path, headers, "
                                       "callerToken and body");
    }
  }
  TestRequest request;
  CREDGATE_RETURN_IF_ERROR(ReadString(body, "method", &request.method));
  if (!IsToken(request.method) || request.method.size() > 20) {
    return Invalid("method", "must be an HTTP method such as GET or POST");
  }
  CREDGATE_RETURN_IF_ERROR(ReadString(body, "path", &request.path));
  if (!request.path.starts_with('/') || request.path.size() > kMaxPathBytes ||
      request.path.find_first_of(" #") != std::string::npos || HasLineBreakOrNul(request.path)) {
    return Invalid("path", "must start with '/', have no spaces, '#' or line breaks, and be at "
                           "most 8 KiB");
  }
  CREDGATE_RETURN_IF_ERROR(ReadString(body, "callerToken", &request.caller_token));
  if (HasLineBreakOrNul(request.caller_token)) {
    return Invalid("callerToken", "must not contain line breaks");
  }
  CREDGATE_RETURN_IF_ERROR(ReadString(body, "body", &request.body));
  if (request.body.size() > kMaxBodyBytes) return Invalid("body", "must be at most 1 MiB");

  if (const json::value* headers = body.if_contains("headers"); headers && !headers->is_null()) {
    if (!headers->is_array() || headers->as_array().size() > kMaxHeaders) {
      return Invalid("headers", "must be an array of at most 50 [name, value] pairs");
    }
    for (const json::value& pair : headers->as_array()) {
      const json::array* items = pair.if_array();
      if (items == nullptr || items->size() != 2 || !(*items)[0].is_string() ||
          !(*items)[1].is_string()) {
        return Invalid("headers", "must contain [name, value] pairs of strings");
      }
      std::string name((*items)[0].as_string());
      std::string value((*items)[1].as_string());
      const bool too_long = name.size() + value.size() > kMaxHeaderBytes;
      if (!IsToken(name) || HasLineBreakOrNul(value) || too_long) {
        return Invalid("headers", "contains an invalid header '" + name.substr(0, 100) + "'");
      }
      if (IsReserved(name)) {
        return Invalid("headers", "must not set '" + name + "', which the test console sets");
      }
      if (boost::beast::iequals(name, "authorization") && !request.caller_token.empty()) {
        return Invalid("headers", "must not set Authorization together with callerToken");
      }
      request.headers.emplace_back(std::move(name), std::move(value));
    }
  }
  return request;
}

json::array RenderHeaders(const http::HeaderList& headers) {
  json::array out;
  for (const auto& [name, value] : headers) {
    json::array pair;
    pair.emplace_back(name);
    pair.emplace_back(value);
    out.push_back(std::move(pair));
  }
  return out;
}

json::array RenderTrace(const std::vector<policy::TraceStep>& steps) {
  json::array out;
  for (const policy::TraceStep& step : steps) {
    json::object entry;
    entry["section"] = step.section;
    entry["scope"] = step.scope;
    entry["statement"] = step.statement;
    entry["id"] = step.id;
    entry["path"] = step.path;
    entry["outcome"] = step.outcome;
    entry["detail"] = step.detail;
    out.push_back(std::move(entry));
  }
  return out;
}

// Closes a trace handle that the gateway did not claim, for example for an unrouted request.
class TraceHandleCloser {
 public:
  TraceHandleCloser(policy::TraceRegistry& traces, std::string handle)
      : traces_(traces), handle_(std::move(handle)) {}
  ~TraceHandleCloser() { traces_.Close(handle_); }
  TraceHandleCloser(const TraceHandleCloser&) = delete;
  TraceHandleCloser& operator=(const TraceHandleCloser&) = delete;

 private:
  policy::TraceRegistry& traces_;
  std::string handle_;
};

}  // namespace

bool IsTestConsolePath(std::string_view path) { return !ApiIdOf(path).empty(); }

TestConsole::TestConsole(http::HttpClient& client, policy::TraceRegistry& traces,
                         std::string gateway_url)
    : client_(client), traces_(traces), gateway_url_(std::move(gateway_url)) {}

boost::asio::awaitable<Result<json::value>> TestConsole::Handle(const runtime::Snapshot& snapshot,
                                                               const std::string& method,
                                                               std::string_view path,
                                                               const std::string& body) {
  if (method != "POST") {
    co_return MakeError(ErrorCode::kMethodNotAllowed,
                        "method " + method + " is not supported on this resource: use POST",
                        "MethodNotAllowed");
  }
  const std::string api_id(ApiIdOf(path));
  auto api = snapshot.apis.find(api_id);
  if (api == snapshot.apis.end()) {
    co_return MakeError(ErrorCode::kNotFound, "API '" + api_id + "' not found", "ResourceNotFound");
  }
  auto parsed = ParseTestRequest(body);
  if (!parsed.ok()) {
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    co_return parsed.error();
  }
  TestRequest request = std::move(parsed).value();

  auto opened = traces_.Open();
  if (!opened) {
    co_return MakeError(ErrorCode::kResourceExhausted,
                        "too many test requests are running; retry when one has finished",
                        "TooManyRequests");
  }
  TraceHandleCloser closer(traces_, opened->handle);

  const std::string& api_path = api->second->resource.path;
  http::ClientRequest call;
  call.method = request.method;
  call.url = gateway_url_ + (api_path.empty() ? "" : "/" + api_path) + request.path;
  call.headers = std::move(request.headers);
  if (!request.caller_token.empty()) {
    call.headers.emplace_back("Authorization", "Bearer " + request.caller_token);
  }
  call.headers.emplace_back(std::string(policy::kTraceHeader), opened->handle);
  call.body = std::move(request.body);
  call.timeout = kTimeout;
  auto response = co_await client_.Send(std::move(call));
  if (!response.ok()) {
    counters_.failed.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("test console request failed api={}: {}", api_id, response.error().message);
    Error error = response.error();
    error.message = "the test request through the gateway failed: " + error.message;
    co_return error;
  }
  counters_.answered.fetch_add(1, std::memory_order_relaxed);

  json::object rendered;
  rendered["status"] = response->status;
  rendered["headers"] = RenderHeaders(response->headers);
  rendered["body"] = response->body;
  json::object out;
  out["response"] = std::move(rendered);
  out["trace"] = RenderTrace(opened->trace->Steps());
  co_return json::value(std::move(out));
}

}  // namespace credgate::management
