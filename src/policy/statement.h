// The compiled statements of a policy document section. Every statement keeps its source
// position and its path in the section, so that an error raised while it runs can fill
// context.LastError. Statements are immutable once compiled.
//
// To add a statement: add its spec struct to StatementSpec, its compiler to the table in
// statement_compilers.cc and its execution to executor.cc.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "crypto/certificate.h"
#include "policy/expression.h"

namespace credgate::policy {

enum class PolicyScope { kGlobal, kApi, kOperation };
enum class Section { kInbound, kBackend, kOutbound, kOnError };
inline constexpr size_t kSectionCount = 4;

// Returns "global", "api" or "operation".
std::string_view ScopeName(PolicyScope scope);
// Returns "inbound", "backend", "outbound" or "on-error".
std::string_view SectionName(Section section);

enum class IdentityType { kManaged, kJwt };
enum class ExistsAction { kOverride, kSkip, kAppend, kDelete };

struct Statement;
using StatementList = std::vector<Statement>;

// <base/>: the enclosing scope's section is inserted here when the pipeline is composed.
struct BaseSpec {};

struct GetAuthorizationContextSpec {
  ValueTemplate provider_id;
  ValueTemplate authorization_id;
  std::string context_variable_name;
  IdentityType identity_type = IdentityType::kManaged;
  std::optional<ValueTemplate> identity;  // Absent: the caller's bearer token when kJwt.
  bool ignore_error = false;
};

struct SetHeaderSpec {
  std::string name;
  ExistsAction exists_action = ExistsAction::kOverride;
  std::vector<ValueTemplate> values;
};

struct SetVariableSpec {
  std::string name;
  ValueTemplate value;  // An expression keeps the type of its result; a literal is a string.
};

namespace liquid {
class Template;  // policy/liquid_template.h
}  // namespace liquid

struct SetBodySpec {
  ValueTemplate body;
  // template="liquid": the compiled template, which replaces `body`.
  std::shared_ptr<const liquid::Template> liquid;
  // xsi-nil="null": an XML element marked xsi:nil="true" reads as nil in the template, not "".
  bool xsi_nil_as_null = false;
  // parse-date (default true): date strings of the body read as DateTime values.
  bool parse_date = true;
};

struct SetStatusSpec {
  ValueTemplate code;  // Evaluates to an integer from 100 to 599.
  ValueTemplate reason;
};

struct WhenClause {
  std::shared_ptr<const Expression> condition;
  StatementList statements;
};

struct ChooseSpec {
  std::vector<WhenClause> when;
  std::optional<StatementList> otherwise;
};

struct ReturnResponseSpec {
  // A variable holding an IResponse of send-request, which the response starts from; "" for none.
  std::string response_variable_name;
  std::optional<SetStatusSpec> status;
  std::vector<SetHeaderSpec> headers;
  std::optional<SetBodySpec> body;
};

struct JwtCheck;  // policy/validate_jwt.h

// <validate-jwt>: the compiled check, shared because it owns a cache of verified tokens.
struct ValidateJwtSpec {
  std::shared_ptr<const JwtCheck> check;
};

// <set-method>GET</set-method>: the request method sent to the backend.
struct SetMethodSpec {
  ValueTemplate method;
};

// <rewrite-uri template="/v2/orders/{id}?x=1" copy-unmatched-params="true"/>: the backend path
// and query, relative to the backend service URL. {name} is replaced by the URL template
// parameter of that name.
struct RewriteUriSpec {
  ValueTemplate uri_template;
  bool copy_unmatched_params = true;
};

struct SetQueryParameterSpec {
  std::string name;
  ExistsAction exists_action = ExistsAction::kOverride;
  std::vector<ValueTemplate> values;
};

// The Dapr service invocation of set-backend-service backend-id="dapr".
struct DaprTargetSpec {
  ValueTemplate app_id;
  ValueTemplate method;
  std::optional<ValueTemplate> namespace_name;
};

// <set-backend-service>: exactly one of the three targets is set.
struct SetBackendServiceSpec {
  std::optional<ValueTemplate> base_url;    // An absolute http or https URL.
  std::optional<ValueTemplate> backend_id;  // The id of a backend resource.
  std::optional<DaprTargetSpec> dapr;
};

struct CheckHeaderSpec {
  std::string name;
  int failed_status = 401;
  ValueTemplate failed_message;
  bool ignore_case = false;
  std::vector<std::string> values;  // Empty: the header only has to be present.
};

// One address or range of <ip-filter>, as 16-byte IPv6 addresses; IPv4 is mapped (::ffff:a.b.c.d).
struct IpRange {
  std::array<unsigned char, 16> from{};
  std::array<unsigned char, 16> to{};
};

struct IpFilterSpec {
  bool allow = true;  // action="allow": only the listed addresses pass. "forbid": they fail.
  std::vector<IpRange> ranges;
};

struct CorsSpec {
  bool allow_credentials = false;
  bool terminate_unmatched_request = true;
  std::vector<std::string> allowed_origins;  // "*" allows any origin.
  std::vector<std::string> allowed_methods;  // "*" allows any method.
  std::vector<std::string> allowed_headers;  // "*" allows any header.
  std::vector<std::string> expose_headers;
  std::optional<int64_t> preflight_result_max_age;  // Seconds.
};

// <mock-response>: the operation's response example for the status code and content type
// (SelectResponseExample), or an empty body when it has none.
struct MockResponseSpec {
  int status_code = 200;
  std::string content_type;  // Empty: the first example of the status code, whatever its type.
};

struct AuthenticationBasicSpec {
  ValueTemplate username;
  ValueTemplate password;
};

// <authentication-managed-identity>: an access token for `resource` from the gateway's own
// identity (PolicyServices::GetManagedIdentityToken).
struct ManagedIdentitySpec {
  ValueTemplate resource;
  // client-id: a user-assigned identity that managedIdentity.userAssigned maps to a token
  // provider. Empty: the gateway's own identity.
  std::string client_id;
  std::string output_token_variable_name;  // Empty: the token goes into "Authorization: Bearer".
  bool ignore_error = false;
};

enum class TraceSeverity { kVerbose, kInformation, kError };

struct TraceSpec {
  std::string source;
  TraceSeverity severity = TraceSeverity::kVerbose;
  ValueTemplate message;
  std::vector<std::pair<std::string, ValueTemplate>> metadata;
};

class WindowCounters;  // policy/window_counters.h
class ValueCache;      // policy/value_cache.h

// rate-limit-by-key and quota-by-key.
struct RateLimitSpec {
  bool quota = false;  // quota-by-key: 403 and a window from first-period-start.
  int64_t calls = 0;   // 0 with quota-by-key: only the bandwidth is limited.
  // quota-by-key bandwidth: the request and response body bytes allowed per window, the
  // attribute's kilobytes times 1024. 0: the bandwidth is not limited.
  int64_t bandwidth_bytes = 0;
  std::chrono::seconds renewal_period{0};  // 0 with quota-by-key: the quota never renews.
  ValueTemplate counter_key;
  std::shared_ptr<const Expression> increment_condition;  // Null: every call counts.
  int64_t increment_count = 1;
  std::string retry_after_header_name;
  std::string retry_after_variable_name;
  std::string remaining_calls_header_name;
  std::string remaining_calls_variable_name;
  std::string total_calls_header_name;
  std::chrono::system_clock::time_point first_period_start{};
  std::shared_ptr<WindowCounters> counters;  // Shared by every request of this statement.
  std::shared_ptr<WindowCounters> byte_counters;  // Set when bandwidth_bytes is.
};

enum class CacheCommand { kLookup, kStore, kRemove };

// cache-lookup-value, cache-store-value and cache-remove-value.
struct CacheValueSpec {
  CacheCommand command = CacheCommand::kLookup;
  ValueTemplate key;
  std::string variable_name;                // Lookup: the variable that receives the value.
  std::optional<ValueTemplate> default_value;  // Lookup: stored when the key is absent.
  std::optional<ValueTemplate> value;          // Store.
  std::optional<ValueTemplate> duration;       // Store: seconds.
  std::shared_ptr<ValueCache> cache;           // The process-wide cache.
};

// The Cache-Control that cache-lookup's downstream-caching-type gives the caller's response.
enum class DownstreamCaching { kNone, kPrivate, kPublic };

// <cache-lookup>: responds with a stored response of a GET or HEAD request, or marks the request
// so that cache-store stores its response (policy/response_cache.h).
struct CacheLookupSpec {
  bool allow_private_response_caching = false;
  DownstreamCaching downstream_caching = DownstreamCaching::kNone;
  bool must_revalidate = true;
  std::vector<std::string> vary_by_headers;
  std::vector<std::string> vary_by_query_parameters;
  std::shared_ptr<ValueCache> cache;  // The process-wide cache.
};

// <cache-store>: stores the response of a request that cache-lookup marked.
struct CacheStoreSpec {
  ValueTemplate duration;       // Seconds.
  bool cache_response = false;  // True: any status code; false: only 200.
  std::shared_ptr<ValueCache> cache;
};

// <authentication-certificate>: the client certificate for TLS client authentication, of a
// send-request or, as an inbound statement, of the backend call. A stored certificate
// (certificate-id or thumbprint) and a literal body are parsed at save; a body expression is
// parsed per request.
struct ClientCertificateSpec {
  std::shared_ptr<const crypto::Certificate> certificate;  // Null when `body` is an expression.
  std::optional<ValueTemplate> body;                       // base64 PKCS#12 or PEM.
  std::optional<ValueTemplate> password;
};

// <authentication-certificate> in inbound: the certificate that the backend call presents.
struct AuthenticationCertificateSpec {
  ClientCertificateSpec certificate;
};

// <proxy> inside send-request: the HTTP forward proxy the request goes through.
struct ProxySpec {
  ValueTemplate url;
  std::optional<ValueTemplate> username;
  std::optional<ValueTemplate> password;
};

// send-request and send-one-way-request.
struct SendRequestSpec {
  bool one_way = false;
  bool copy_mode = false;  // mode="copy": starts from the current request's headers and body.
  std::string response_variable_name;
  std::chrono::seconds timeout{60};
  bool ignore_error = false;
  ValueTemplate url;
  std::optional<ValueTemplate> method;  // Absent: GET, or the current method in copy mode.
  std::vector<SetHeaderSpec> headers;
  std::optional<SetBodySpec> body;
  std::optional<ManagedIdentitySpec> managed_identity;  // Applied after the headers.
  std::optional<ClientCertificateSpec> client_certificate;
  std::optional<ProxySpec> proxy;
};

// <retry>: runs its statements again while `condition` holds, at most `count` more times.
struct RetrySpec {
  std::shared_ptr<const Expression> condition;
  int64_t count = 1;
  std::chrono::seconds interval{0};
  std::optional<std::chrono::seconds> max_interval;
  std::optional<std::chrono::seconds> delta;
  bool first_fast_retry = false;
  StatementList statements;
};

class ConcurrencySlots;  // policy/concurrency_slots.h

// <limit-concurrency>: runs its statements only while fewer than max-count requests with the
// same key run them.
struct LimitConcurrencySpec {
  ValueTemplate key;
  int64_t max_count = 1;
  StatementList statements;
  std::shared_ptr<ConcurrencySlots> slots;  // Shared by every request of this statement.
};

// forward-request. At the top of the backend section it only records these settings, and the
// gateway sends the request after the section. Inside <retry> or <limit-concurrency>, or with
// follow-redirects (`sends_now`), running it sends the request and fills context.response, so
// the enclosing statement can read the response and a redirect can be sent again.
struct ForwardRequestSpec {
  bool sends_now = false;
  // Whether `timeout` or `timeout-ms` was given; otherwise the gateway's backend timeout holds.
  bool timeout_set = false;
  std::chrono::milliseconds timeout{300'000};
  bool buffer_request_body = false;
  bool buffer_response = true;
  bool follow_redirects = false;
  bool fail_on_error_status_code = false;
};

using StatementSpec =
    std::variant<BaseSpec, GetAuthorizationContextSpec, SetHeaderSpec, SetVariableSpec, SetBodySpec,
                 SetStatusSpec, ChooseSpec, ReturnResponseSpec, ForwardRequestSpec,
                 ValidateJwtSpec, SetMethodSpec, RewriteUriSpec, SetQueryParameterSpec,
                 SetBackendServiceSpec, CheckHeaderSpec, IpFilterSpec, CorsSpec, MockResponseSpec,
                 AuthenticationBasicSpec, TraceSpec, RateLimitSpec, CacheValueSpec, SendRequestSpec,
                 RetrySpec, LimitConcurrencySpec, ManagedIdentitySpec, CacheLookupSpec,
                 CacheStoreSpec, AuthenticationCertificateSpec>;

struct Statement {
  std::string name;  // Element name, for example "set-header".
  std::string id;    // The optional id attribute, reported as context.LastError.PolicyId.
  std::string path;  // Position in its section, for example "choose[1]/when[2]/set-header[1]".
  int line = 0;      // 1-based position of the element name in the document.
  int column = 0;
  // Whether running the statement may suspend, so the executor needs a coroutine for it.
  bool is_async = false;
  StatementSpec spec;
};

}  // namespace credgate::policy
