// The members of the `context` root that expressions can reach, resolved at compile time to a
// ContextField so that evaluation reads PolicyContext directly, without a name lookup. Internal
// to the policy module.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/context.h"
#include "policy/value.h"

namespace credgate::policy::internal {

enum class ContextField : uint8_t {
  kRoot,
  kRequest,
  kRequestMethod,
  kRequestUrl,
  kRequestUrlPath,
  kRequestUrlQuery,
  kRequestUrlQueryString,
  kRequestUrlHost,
  kRequestUrlScheme,
  kRequestUrlPort,
  kRequestHeaders,
  kRequestIpAddress,
  kRequestMatchedParameters,
  kVariables,
  kRequestId,
  kApi,
  kApiId,
  kApiName,
  kApiPath,
  kOperation,
  kOperationId,
  kOperationName,
  kOperationMethod,
  kOperationUrlTemplate,
  kResponse,
  kResponseStatusCode,
  kResponseStatusReason,
  kResponseHeaders,
  kLastError,
  kLastErrorSource,
  kLastErrorReason,
  kLastErrorMessage,
  kLastErrorScope,
  kLastErrorSection,
  kLastErrorPath,
  kLastErrorPolicyId,
  kRequestBody,
  kResponseBody,
  kRequestOriginalUrl,
  kDeployment,
  kDeploymentRegion,
  kDeploymentServiceName,
  kDeploymentServiceId,
  kDeploymentGatewayId,
  kTimestamp,
  kElapsed,
  kSubscription,
  kUser,
  kProduct,
};

enum class FieldShape {
  kGroup,       // Only its members are usable, as context.Request.
  kValue,       // A string or number, as context.Request.Method.
  kDictionary,  // Supports GetValueOrDefault, ContainsKey and the indexer, as Headers.
  kBody,        // Read only through As<T>(), as context.Request.Body.As<string>().
};

// The type of a value as the compiler infers it. kAny defers checks to run time.
enum class StaticKind { kAny, kNull, kBool, kInt, kDouble, kString, kObject };

struct StaticType {
  StaticKind kind = StaticKind::kAny;
  std::string_view object_type = {};  // For kObject: "Authorization", "IReadOnlyDictionary", ...
};

struct ContextFieldInfo {
  ContextField field;
  ContextField parent;
  std::string_view name;
  FieldShape shape;
  StaticType type;
};

enum class DictionaryMethod { kGetValueOrDefault, kContainsKey, kIndexer };

// Returns the member `name` of `parent`, or nullptr.
const ContextFieldInfo* FindContextMember(ContextField parent, std::string_view name);
const ContextFieldInfo& InfoOf(ContextField field);
// Returns "context.Request.Url"-style text for messages.
std::string PathOf(ContextField field);
// Returns the member names of `parent` separated by ", ", for messages.
std::string MemberNamesOf(ContextField parent);

// Returns context.Request.Url as text: scheme, host, the port unless it is the scheme's default,
// path and query.
std::string FullUrl(const RequestState& request);
// Returns the parameters of a query string, percent-decoded, one entry per name in the order of
// first appearance. A repeated name, compared case-insensitively, gives its values joined by ",".
Entries QueryEntries(std::string_view query);

// Reads a kValue field, or a snapshot object of a kDictionary field. context.LastError's members
// read as null when no error occurred.
Value ReadContextField(ContextField field, const PolicyContext& context);

// Calls a dictionary method on a kDictionary field. Errors: kInvalidArgument on a wrong
// argument count, kNotFound when the indexer misses.
Result<Value> CallContextDictionary(ContextField field, DictionaryMethod method,
                                    std::span<const Value> args, const PolicyContext& context);

}  // namespace credgate::policy::internal
