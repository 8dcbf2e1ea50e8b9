#include "policy/context_fields.h"

#include <cctype>
#include <map>
#include <optional>

#include "common/encoding.h"
#include "policy/expression_time.h"
#include "policy/text.h"

namespace credgate::policy::internal {

namespace {

constexpr StaticType kNone{};
constexpr StaticType kString{StaticKind::kString};
constexpr StaticType kInt{StaticKind::kInt};
constexpr StaticType kDictionaryType{StaticKind::kObject, "IReadOnlyDictionary"};
constexpr StaticType kDateTime{StaticKind::kObject, "DateTime"};
constexpr StaticType kTimeSpan{StaticKind::kObject, "TimeSpan"};

using F = ContextField;
using S = FieldShape;

constexpr ContextFieldInfo kFields[] = {
    {F::kRoot, F::kRoot, "context", S::kGroup, kNone},
    {F::kRequest, F::kRoot, "Request", S::kGroup, kNone},
    {F::kRequestMethod, F::kRequest, "Method", S::kValue, kString},
    {F::kRequestUrl, F::kRequest, "Url", S::kValue, kString},
    {F::kRequestUrlPath, F::kRequestUrl, "Path", S::kValue, kString},
    {F::kRequestUrlQuery, F::kRequestUrl, "Query", S::kDictionary, kDictionaryType},
    {F::kRequestUrlQueryString, F::kRequestUrl, "QueryString", S::kValue, kString},
    {F::kRequestUrlHost, F::kRequestUrl, "Host", S::kValue, kString},
    {F::kRequestUrlScheme, F::kRequestUrl, "Scheme", S::kValue, kString},
    {F::kRequestUrlPort, F::kRequestUrl, "Port", S::kValue, kInt},
    {F::kRequestHeaders, F::kRequest, "Headers", S::kDictionary, kDictionaryType},
    {F::kRequestIpAddress, F::kRequest, "IpAddress", S::kValue, kString},
    {F::kRequestMatchedParameters, F::kRequest, "MatchedParameters", S::kDictionary,
     kDictionaryType},
    {F::kVariables, F::kRoot, "Variables", S::kDictionary, kDictionaryType},
    {F::kRequestId, F::kRoot, "RequestId", S::kValue, kString},
    {F::kApi, F::kRoot, "Api", S::kGroup, kNone},
    {F::kApiId, F::kApi, "Id", S::kValue, kString},
    {F::kApiName, F::kApi, "Name", S::kValue, kString},
    {F::kApiPath, F::kApi, "Path", S::kValue, kString},
    {F::kOperation, F::kRoot, "Operation", S::kGroup, kNone},
    {F::kOperationId, F::kOperation, "Id", S::kValue, kString},
    {F::kOperationName, F::kOperation, "Name", S::kValue, kString},
    {F::kOperationMethod, F::kOperation, "Method", S::kValue, kString},
    {F::kOperationUrlTemplate, F::kOperation, "UrlTemplate", S::kValue, kString},
    {F::kResponse, F::kRoot, "Response", S::kGroup, kNone},
    {F::kResponseStatusCode, F::kResponse, "StatusCode", S::kValue, kInt},
    {F::kResponseStatusReason, F::kResponse, "StatusReason", S::kValue, kString},
    {F::kResponseHeaders, F::kResponse, "Headers", S::kDictionary, kDictionaryType},
    {F::kLastError, F::kRoot, "LastError", S::kGroup, kNone},
    {F::kLastErrorSource, F::kLastError, "Source", S::kValue, kString},
    {F::kLastErrorReason, F::kLastError, "Reason", S::kValue, kString},
    {F::kLastErrorMessage, F::kLastError, "Message", S::kValue, kString},
    {F::kLastErrorScope, F::kLastError, "Scope", S::kValue, kString},
    {F::kLastErrorSection, F::kLastError, "Section", S::kValue, kString},
    {F::kLastErrorPath, F::kLastError, "Path", S::kValue, kString},
    {F::kLastErrorPolicyId, F::kLastError, "PolicyId", S::kValue, kString},
    {F::kRequestBody, F::kRequest, "Body", S::kBody, kNone},
    {F::kResponseBody, F::kResponse, "Body", S::kBody, kNone},
    {F::kRequestOriginalUrl, F::kRequest, "OriginalUrl", S::kValue, kString},
    {F::kDeployment, F::kRoot, "Deployment", S::kGroup, kNone},
    {F::kDeploymentRegion, F::kDeployment, "Region", S::kValue, kString},
    {F::kDeploymentServiceName, F::kDeployment, "ServiceName", S::kValue, kString},
    {F::kDeploymentServiceId, F::kDeployment, "ServiceId", S::kValue, kString},
    {F::kDeploymentGatewayId, F::kDeployment, "GatewayId", S::kValue, kString},
    {F::kTimestamp, F::kRoot, "Timestamp", S::kValue, kDateTime},
    {F::kElapsed, F::kRoot, "Elapsed", S::kValue, kTimeSpan},
    // credgate has no subscriptions, users or products, so these read as null, which is what
    // APIM gives an API that requires no subscription.
    {F::kSubscription, F::kRoot, "Subscription", S::kValue, {StaticKind::kObject, "Subscription"}},
    {F::kUser, F::kRoot, "User", S::kValue, {StaticKind::kObject, "User"}},
    {F::kProduct, F::kRoot, "Product", S::kValue, {StaticKind::kObject, "Product"}},
};

}  // namespace

std::string FullUrl(const RequestState& request) {
  std::string url = request.scheme + "://" + request.host;
  bool default_port = request.port == 0 || (request.scheme == "https" && request.port == 443) ||
                      (request.scheme == "http" && request.port == 80);
  if (!default_port) url += ":" + std::to_string(request.port);
  url += request.path;
  if (!request.query_string.empty()) url += "?" + request.query_string;
  return url;
}

namespace {

// Returns every value of query parameter `name` joined by ",", or nullopt. Names compare
// case-insensitively.
std::optional<std::string> QueryValue(std::string_view query, std::string_view name) {
  std::optional<std::string> joined;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), /*plus_as_space=*/true);
    if (!key || !EqualsIgnoreCase(*key, name)) continue;
    std::string value;
    if (eq != std::string_view::npos) {
      value = PercentDecode(pair.substr(eq + 1), true).value_or(std::string(pair.substr(eq + 1)));
    }
    if (joined) {
      *joined += "," + value;
    } else {
      joined = std::move(value);
    }
  }
  return joined;
}

}  // namespace

Entries QueryEntries(std::string_view query) {
  std::vector<std::string> names;
  std::vector<std::string> joined;
  // Index into `names` and `joined` by the ASCII-lowercased name, because names compare
  // case-insensitively.
  std::map<std::string, size_t> index;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), /*plus_as_space=*/true);
    if (!key) continue;
    std::string value;
    if (eq != std::string_view::npos) {
      value = PercentDecode(pair.substr(eq + 1), true).value_or(std::string(pair.substr(eq + 1)));
    }
    std::string folded = *key;
    for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [it, inserted] = index.emplace(std::move(folded), names.size());
    if (inserted) {
      // The first spelling of the name is kept.
      names.push_back(std::move(*key));
      joined.push_back(std::move(value));
    } else {
      joined[it->second] += "," + value;
    }
  }
  Entries entries;
  entries.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    entries.emplace_back(std::move(names[i]), Value(std::move(joined[i])));
  }
  return entries;
}

namespace {

Entries HeaderEntries(const HeaderMap& headers) {
  Entries entries;
  for (const auto& field : headers.fields()) {
    bool seen = false;
    for (const auto& entry : entries) seen = seen || EqualsIgnoreCase(entry.first, field.first);
    if (!seen) entries.emplace_back(field.first, Value(*headers.GetJoined(field.first)));
  }
  return entries;
}

// Looks up `key` in the dictionary `field`; returns nullopt when absent.
std::optional<Value> LookUp(ContextField field, const std::string& key,
                            const PolicyContext& context) {
  switch (field) {
    case F::kRequestHeaders:
    case F::kResponseHeaders: {
      const HeaderMap& headers =
          field == F::kRequestHeaders ? context.request.headers : context.response.headers;
      auto value = headers.GetJoined(key);
      if (!value) return std::nullopt;
      return Value(std::move(*value));
    }
    case F::kRequestUrlQuery: {
      auto value = QueryValue(context.request.query_string, key);
      if (!value) return std::nullopt;
      return Value(std::move(*value));
    }
    case F::kRequestMatchedParameters:
      for (const auto& [name, value] : context.request.matched_parameters) {
        if (EqualsIgnoreCase(name, key)) return Value(value);
      }
      return std::nullopt;
    case F::kVariables: {
      auto it = context.variables.find(key);
      if (it == context.variables.end()) return std::nullopt;
      return it->second;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

const ContextFieldInfo* FindContextMember(ContextField parent, std::string_view name) {
  for (const auto& info : kFields) {
    if (info.parent == parent && info.name == name && info.field != F::kRoot) return &info;
  }
  return nullptr;
}

const ContextFieldInfo& InfoOf(ContextField field) { return kFields[static_cast<size_t>(field)]; }

std::string PathOf(ContextField field) {
  if (field == F::kRoot) return "context";
  return PathOf(InfoOf(field).parent) + "." + std::string(InfoOf(field).name);
}

std::string MemberNamesOf(ContextField parent) {
  std::string names;
  for (const auto& info : kFields) {
    if (info.parent != parent || info.field == F::kRoot) continue;
    if (!names.empty()) names += ", ";
    names += info.name;
  }
  return names;
}

Value ReadContextField(ContextField field, const PolicyContext& context) {
  const RequestState& request = context.request;
  const auto last_error = [&](std::string LastErrorState::*member) -> Value {
    if (!context.last_error) return Value();
    return Value((*context.last_error).*member);
  };
  switch (field) {
    case F::kRequestMethod:
      return Value(request.method);
    case F::kRequestUrl:
    case F::kRequestOriginalUrl:
      return Value(FullUrl(request));
    case F::kRequestUrlPath:
      return Value(request.path);
    case F::kRequestUrlQueryString:
      return Value(request.query_string);
    case F::kRequestUrlHost:
      return Value(request.host);
    case F::kRequestUrlScheme:
      return Value(request.scheme);
    case F::kRequestUrlPort:
      return Value(request.port);
    case F::kRequestIpAddress:
      return Value(request.ip_address);
    case F::kRequestId:
      return Value(context.request_id);
    case F::kApiId:
      return Value(context.api.id);
    case F::kApiName:
      return Value(context.api.name);
    case F::kApiPath:
      return Value(context.api.path);
    case F::kOperationId:
      return Value(context.operation.id);
    case F::kOperationName:
      return Value(context.operation.name);
    case F::kOperationMethod:
      return Value(context.operation.method);
    case F::kOperationUrlTemplate:
      return Value(context.operation.url_template);
    case F::kResponseStatusCode:
      return Value(context.response.status_code);
    case F::kResponseStatusReason:
      return Value(context.response.reason);
    case F::kLastErrorSource:
      return last_error(&LastErrorState::source);
    case F::kLastErrorReason:
      return last_error(&LastErrorState::reason);
    case F::kLastErrorMessage:
      return last_error(&LastErrorState::message);
    case F::kLastErrorScope:
      return last_error(&LastErrorState::scope);
    case F::kLastErrorSection:
      return last_error(&LastErrorState::section);
    case F::kLastErrorPath:
      return last_error(&LastErrorState::path);
    case F::kLastErrorPolicyId:
      return last_error(&LastErrorState::policy_id);
    case F::kDeploymentRegion:
      return Value(context.deployment.region);
    case F::kDeploymentServiceName:
      return Value(context.deployment.service_name);
    case F::kDeploymentServiceId:
      return Value(context.deployment.service_id);
    case F::kDeploymentGatewayId:
      return Value(context.deployment.gateway_id);
    case F::kTimestamp:
      return DateTimeFromTimePoint(context.timestamp);
    case F::kElapsed: {
      auto elapsed = std::chrono::system_clock::now() - context.timestamp;
      return Value(MakeTimeSpan(
          std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() * 10));
    }
    case F::kRequestHeaders:
      return Value(MakeDictionary(HeaderEntries(request.headers), /*ignore_case=*/true));
    case F::kResponseHeaders:
      return Value(MakeDictionary(HeaderEntries(context.response.headers), true));
    case F::kRequestUrlQuery:
      return Value(MakeDictionary(QueryEntries(request.query_string), true));
    case F::kRequestMatchedParameters: {
      Entries entries;
      for (const auto& [name, value] : request.matched_parameters) {
        entries.emplace_back(name, Value(value));
      }
      return Value(MakeDictionary(std::move(entries), true));
    }
    case F::kVariables: {
      Entries entries(context.variables.begin(), context.variables.end());
      return Value(MakeDictionary(std::move(entries), /*ignore_case=*/false));
    }
    default:
      return Value();
  }
}

Result<Value> CallContextDictionary(ContextField field, DictionaryMethod method,
                                    std::span<const Value> args, const PolicyContext& context) {
  size_t max_args = method == DictionaryMethod::kGetValueOrDefault ? 2 : 1;
  if (args.empty() || args.size() > max_args) {
    return MakeError(ErrorCode::kInvalidArgument,
                     PathOf(field) + " method called with " + std::to_string(args.size()) +
                         " argument(s); it takes 1" + (max_args == 2 ? " or 2" : ""));
  }
  std::string key = args[0].ToString();
  std::optional<Value> found = LookUp(field, key, context);
  switch (method) {
    case DictionaryMethod::kContainsKey:
      return Value(found.has_value());
    case DictionaryMethod::kGetValueOrDefault:
      if (found) return std::move(*found);
      return args.size() == 2 ? args[1] : Value();
    case DictionaryMethod::kIndexer:
      if (found) return std::move(*found);
      return MakeError(ErrorCode::kNotFound,
                       "the key '" + key + "' is not present in " + PathOf(field) +
                           "; use GetValueOrDefault to read a key that may be absent");
  }
  return Value();
}

}  // namespace credgate::policy::internal
