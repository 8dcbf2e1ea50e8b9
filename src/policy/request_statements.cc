#include "policy/request_statements.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "policy/request_compilers.h"
#include "policy/response_examples.h"
#include "policy/text.h"

namespace credgate::policy::internal {

namespace {

using QueryPairs = std::vector<std::pair<std::string, std::string>>;  // Encoded name and value.

StatementOutcome Next() { return {}; }

StatementOutcome ExpressionFailure(const Error& error) {
  return {false, StatementFailure{500, std::string(kExpressionFailureReason), error.message}};
}

QueryPairs SplitQuery(std::string_view query) {
  QueryPairs pairs;
  while (!query.empty()) {
    size_t end = query.find('&');
    std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    if (pair.empty()) continue;
    size_t equals = pair.find('=');
    if (equals == std::string_view::npos) {
      pairs.emplace_back(std::string(pair), "");
    } else {
      pairs.emplace_back(std::string(pair.substr(0, equals)), std::string(pair.substr(equals + 1)));
    }
  }
  return pairs;
}

std::string JoinQuery(const QueryPairs& pairs) {
  std::string query;
  for (const auto& [name, value] : pairs) {
    if (!query.empty()) query += '&';
    query += name;
    query += '=';
    query += value;
  }
  return query;
}

// Compares an encoded query parameter name with a plain one.
bool NameIs(const std::string& encoded, std::string_view name) {
  std::optional<std::string> decoded = PercentDecode(encoded, true);
  return decoded && *decoded == name;
}

const std::string* MatchedParameter(const PolicyContext& context, std::string_view name) {
  for (const auto& [key, value] : context.request.matched_parameters) {
    if (key == name) return &value;
  }
  return nullptr;
}

bool ListContains(const std::vector<std::string>& list, std::string_view item) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& entry) {
    return entry == "*" || EqualsIgnoreCase(entry, item);
  });
}

std::string_view TrimSpaces(std::string_view text) {
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

StatementOutcome ApplySetMethod(const SetMethodSpec& spec, PolicyContext& context) {
  auto method = spec.method.EvaluateString(context);
  if (!method.ok()) return ExpressionFailure(method.error());
  if (method->empty()) {
    return ExpressionFailure(
        MakeError(ErrorCode::kInvalidArgument, "set-method evaluated to an empty method"));
  }
  context.request.method = std::move(method).value();
  return Next();
}

StatementOutcome ApplyRewriteUri(const RewriteUriSpec& spec, PolicyContext& context) {
  auto evaluated = spec.uri_template.EvaluateString(context);
  if (!evaluated.ok()) return ExpressionFailure(evaluated.error());
  const std::string& uri = *evaluated;
  QueryPairs original = SplitQuery(context.request.query_string);
  std::vector<std::string> used;  // Query parameters consumed by {name}.

  std::string rewritten;
  rewritten.reserve(uri.size());
  for (size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] != '{') {
      rewritten += uri[i];
      continue;
    }
    size_t close = uri.find('}', i);
    if (close == std::string::npos) {
      rewritten.append(uri, i, std::string::npos);
      break;
    }
    std::string name = uri.substr(i + 1, close - i - 1);
    if (const std::string* value = MatchedParameter(context, name)) {
      rewritten += *value;
    } else {
      for (const auto& [key, value] : original) {
        if (NameIs(key, name)) {
          rewritten += value;
          used.push_back(name);
          break;
        }
      }
    }
    i = close;
  }

  size_t question = rewritten.find('?');
  std::string path = rewritten.substr(0, question);
  QueryPairs query =
      question == std::string::npos ? QueryPairs() : SplitQuery(rewritten.substr(question + 1));
  if (spec.copy_unmatched_params) {
    for (const auto& [key, value] : original) {
      std::optional<std::string> name = PercentDecode(key, true);
      if (!name) continue;
      const bool in_template = std::any_of(
          query.begin(), query.end(), [&](const auto& pair) { return NameIs(pair.first, *name); });
      if (in_template || std::find(used.begin(), used.end(), *name) != used.end()) continue;
      query.emplace_back(key, value);
    }
  }
  context.backend_path = std::move(path);
  context.request.query_string = JoinQuery(query);
  return Next();
}

StatementOutcome ApplySetQueryParameter(const SetQueryParameterSpec& spec, PolicyContext& context) {
  QueryPairs pairs = SplitQuery(context.request.query_string);
  auto matches = [&](const auto& pair) { return NameIs(pair.first, spec.name); };
  const bool exists = std::any_of(pairs.begin(), pairs.end(), matches);
  if (spec.exists_action == ExistsAction::kSkip && exists) return Next();

  std::vector<std::string> values;
  for (const ValueTemplate& value : spec.values) {
    auto text = value.EvaluateString(context);
    if (!text.ok()) return ExpressionFailure(text.error());
    values.push_back(std::move(text).value());
  }
  if (spec.exists_action == ExistsAction::kDelete ||
      spec.exists_action == ExistsAction::kOverride) {
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(), matches), pairs.end());
  }
  if (spec.exists_action != ExistsAction::kDelete) {
    for (const std::string& value : values) {
      pairs.emplace_back(PercentEncode(spec.name), PercentEncode(value));
    }
  }
  context.request.query_string = JoinQuery(pairs);
  return Next();
}

StatementOutcome ApplySetBackendService(const SetBackendServiceSpec& spec, PolicyContext& context) {
  context.backend_url.reset();
  context.backend_id.reset();
  context.dapr.reset();
  if (spec.base_url) {
    auto url = spec.base_url->EvaluateString(context);
    if (!url.ok()) return ExpressionFailure(url.error());
    context.backend_url = std::move(url).value();
    return Next();
  }
  if (spec.dapr) {
    DaprInvocation invocation;
    auto app_id = spec.dapr->app_id.EvaluateString(context);
    if (!app_id.ok()) return ExpressionFailure(app_id.error());
    invocation.app_id = std::move(app_id).value();
    auto method = spec.dapr->method.EvaluateString(context);
    if (!method.ok()) return ExpressionFailure(method.error());
    invocation.method = std::move(method).value();
    if (spec.dapr->namespace_name) {
      auto namespace_name = spec.dapr->namespace_name->EvaluateString(context);
      if (!namespace_name.ok()) return ExpressionFailure(namespace_name.error());
      invocation.namespace_name = std::move(namespace_name).value();
    }
    context.dapr = std::move(invocation);
    return Next();
  }
  auto id = spec.backend_id->EvaluateString(context);
  if (!id.ok()) return ExpressionFailure(id.error());
  context.backend_id = std::move(id).value();
  return Next();
}

StatementOutcome ApplyCheckHeader(const CheckHeaderSpec& spec, PolicyContext& context) {
  bool present = false;
  bool matched = spec.values.empty();
  for (const auto& [name, value] : context.request.headers.fields()) {
    if (!EqualsIgnoreCase(name, spec.name)) continue;
    present = true;
    for (const std::string& allowed : spec.values) {
      if (spec.ignore_case ? EqualsIgnoreCase(value, allowed) : value == allowed) matched = true;
    }
  }
  if (present && matched) return Next();
  auto message = spec.failed_message.EvaluateString(context);
  if (!message.ok()) return ExpressionFailure(message.error());
  return {false,
          StatementFailure{spec.failed_status, present ? "HeaderValueNotAllowed" : "HeaderNotFound",
                           std::move(message).value()}};
}

StatementOutcome ApplyIpFilter(const IpFilterSpec& spec, PolicyContext& context) {
  std::optional<std::array<unsigned char, 16>> address = ParseIpAddress(context.request.ip_address);
  bool listed = false;
  if (address) {
    listed = std::any_of(spec.ranges.begin(), spec.ranges.end(), [&](const IpRange& range) {
      return range.from <= *address && *address <= range.to;
    });
  }
  if (listed == spec.allow) return Next();
  // The reasons and messages of APIM's error handling reference for ip-filter.
  if (!address) {
    return {false, StatementFailure{403, "FailedToParseCallerIP",
                                    "Failed to establish IP address for the caller. Access "
                                    "denied."}};
  }
  if (!spec.allow) {
    return {false, StatementFailure{403, "CallerIpBlocked",
                                    "Caller IP address is blocked. Access denied."}};
  }
  return {false, StatementFailure{403, "CallerIpNotAllowed",
                                  "Caller IP address " + context.request.ip_address +
                                      " is not allowed. Access denied."}};
}

StatementOutcome ApplyCors(const CorsSpec& spec, PolicyContext& context) {
  std::optional<std::string_view> origin = context.request.headers.Get("Origin");
  if (!origin) return Next();
  const bool origin_allowed = ListContains(spec.allowed_origins, *origin);
  // A literal "*" is sent only when any origin is allowed and no credentials are involved.
  const bool wildcard = !spec.allow_credentials &&
                        std::find(spec.allowed_origins.begin(), spec.allowed_origins.end(), "*") !=
                            spec.allowed_origins.end();
  const std::string allow_origin = wildcard ? "*" : std::string(*origin);
  std::optional<std::string_view> requested_method =
      context.request.headers.Get("Access-Control-Request-Method");

  // Fetch standard §3.2.2: a preflight is an OPTIONS request with Access-Control-Request-Method.
  if (EqualsIgnoreCase(context.request.method, "OPTIONS") && requested_method) {
    std::vector<std::string> methods = spec.allowed_methods;
    if (methods.empty()) methods = {"GET", "POST"};
    bool allowed = origin_allowed && ListContains(methods, *requested_method);
    std::string requested_headers(
        context.request.headers.GetJoined("Access-Control-Request-Headers").value_or(""));
    std::string_view rest = requested_headers;
    while (allowed && !rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view header = TrimSpaces(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (!header.empty() && !ListContains(spec.allowed_headers, header)) allowed = false;
    }
    if (!allowed && !spec.terminate_unmatched_request) return Next();
    context.response = ResponseState{};
    context.response.status_code = 200;
    if (allowed) {
      HeaderMap& headers = context.response.headers;
      headers.Set("Access-Control-Allow-Origin", allow_origin);
      if (spec.allow_credentials) headers.Set("Access-Control-Allow-Credentials", "true");
      headers.Set("Access-Control-Allow-Methods", std::string(*requested_method));
      if (!requested_headers.empty()) {
        headers.Set("Access-Control-Allow-Headers", requested_headers);
      }
      if (spec.preflight_result_max_age) {
        headers.Set("Access-Control-Max-Age", std::to_string(*spec.preflight_result_max_age));
      }
      if (!wildcard) headers.Set("Vary", "Origin");
    }
    context.response_ready = true;
    return {true, std::nullopt};
  }

  if (!origin_allowed) {
    const bool simple = EqualsIgnoreCase(context.request.method, "GET") ||
                        EqualsIgnoreCase(context.request.method, "HEAD");
    if (!spec.terminate_unmatched_request || !simple) return Next();
    context.response = ResponseState{};
    context.response.status_code = 200;
    context.response_ready = true;
    return {true, std::nullopt};
  }
  HeaderMap& headers = context.added_response_headers;
  headers.Set("Access-Control-Allow-Origin", allow_origin);
  if (spec.allow_credentials) headers.Set("Access-Control-Allow-Credentials", "true");
  if (!spec.expose_headers.empty()) {
    std::string exposed;
    for (const std::string& header : spec.expose_headers) {
      exposed += (exposed.empty() ? "" : ", ") + header;
    }
    headers.Set("Access-Control-Expose-Headers", exposed);
  }
  if (!wildcard) headers.Set("Vary", "Origin");
  return Next();
}

StatementOutcome ApplyMockResponse(const MockResponseSpec& spec, PolicyContext& context) {
  context.response = ResponseState{};
  context.response.status_code = spec.status_code;
  const ResponseExample* example = nullptr;
  if (context.operation.response_examples) {
    example = SelectResponseExample(*context.operation.response_examples, spec.status_code,
                                    spec.content_type);
  }
  const std::string& content_type =
      spec.content_type.empty() && example != nullptr ? example->content_type : spec.content_type;
  if (!content_type.empty()) context.response.headers.Set("Content-Type", content_type);
  if (example != nullptr) context.response.body = example->body;
  context.response_ready = true;
  return {true, std::nullopt};
}

StatementOutcome ApplyAuthenticationBasic(const AuthenticationBasicSpec& spec,
                                          PolicyContext& context) {
  auto username = spec.username.EvaluateString(context);
  if (!username.ok()) return ExpressionFailure(username.error());
  auto password = spec.password.EvaluateString(context);
  if (!password.ok()) return ExpressionFailure(password.error());
  // RFC 7617 §2: base64 of user-id ":" password.
  context.request.headers.Set("Authorization",
                              "Basic " + Base64Encode(*username + ":" + *password));
  context.authorization_set = true;
  return Next();
}

StatementOutcome ApplyTrace(const TraceSpec& spec, PolicyContext& context) {
  auto message = spec.message.EvaluateString(context);
  if (!message.ok()) return ExpressionFailure(message.error());
  std::string metadata;
  for (const auto& [name, value] : spec.metadata) {
    auto text = value.EvaluateString(context);
    if (!text.ok()) return ExpressionFailure(text.error());
    metadata += " " + name + "=" + *text;
  }
  const spdlog::level::level_enum level =
      spec.severity == TraceSeverity::kError         ? spdlog::level::err
      : spec.severity == TraceSeverity::kInformation ? spdlog::level::info
                                                     : spdlog::level::debug;
  spdlog::log(level, "policy trace request_id={} source={}{}: {}", context.request_id, spec.source,
              metadata, *message);
  return Next();
}

}  // namespace credgate::policy::internal
