// Execution of the statements that rewrite, check or respond to a request without suspending:
// set-method, rewrite-uri, set-query-parameter, set-backend-service, check-header, ip-filter,
// cors, mock-response, authentication-basic and trace. Internal to the policy module; the
// executor dispatches to these functions and turns a failure into context.LastError.
#pragma once

#include <optional>
#include <string>

#include "policy/context.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

struct StatementFailure {
  int status = 500;
  std::string reason;   // context.LastError.Reason.
  std::string message;  // context.LastError.Message and the error response's message.
};

// The result of a statement: continue with the next one, respond with context.response now,
// or fail.
struct StatementOutcome {
  bool respond = false;
  std::optional<StatementFailure> failure;
};

// Each function applies its statement to `context`, as its header comment in statement.h and
// docs/policies.md describe. None throws.
StatementOutcome ApplySetMethod(const SetMethodSpec& spec, PolicyContext& context);
StatementOutcome ApplyRewriteUri(const RewriteUriSpec& spec, PolicyContext& context);
StatementOutcome ApplySetQueryParameter(const SetQueryParameterSpec& spec, PolicyContext& context);
StatementOutcome ApplySetBackendService(const SetBackendServiceSpec& spec, PolicyContext& context);
StatementOutcome ApplyCheckHeader(const CheckHeaderSpec& spec, PolicyContext& context);
StatementOutcome ApplyIpFilter(const IpFilterSpec& spec, PolicyContext& context);
StatementOutcome ApplyCors(const CorsSpec& spec, PolicyContext& context);
StatementOutcome ApplyMockResponse(const MockResponseSpec& spec, PolicyContext& context);
StatementOutcome ApplyAuthenticationBasic(const AuthenticationBasicSpec& spec,
                                          PolicyContext& context);
// Logs the trace record with the request id, at debug (verbose), info or error level.
StatementOutcome ApplyTrace(const TraceSpec& spec, PolicyContext& context);

}  // namespace credgate::policy::internal
