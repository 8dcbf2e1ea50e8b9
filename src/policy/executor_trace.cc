// Runner::RecordStep: the trace entry of one top-level statement (trace.h). A detail names what
// the statement changed and never quotes a value, because values may be tokens.
#include <string>

#include "policy/runner.h"
#include "policy/trace.h"

namespace credgate::policy::internal {

namespace {

std::string Quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

// Describes what a statement that completed changed, from its compiled form alone.
std::string DescribeEffect(const Statement& statement, const PolicyContext& context) {
  const StatementSpec& spec = statement.spec;
  if (const auto* s = std::get_if<SetHeaderSpec>(&spec)) {
    return (s->exists_action == ExistsAction::kDelete ? "deleted header " : "set header ") +
           Quoted(s->name);
  }
  if (const auto* s = std::get_if<SetVariableSpec>(&spec)) return "set variable " + Quoted(s->name);
  if (const auto* s = std::get_if<GetAuthorizationContextSpec>(&spec)) {
    const auto found = context.variables.find(s->context_variable_name);
    const bool empty = found == context.variables.end() || found->second.is_null();
    const std::string variable = Quoted(s->context_variable_name);
    if (empty) return "ignored the error and set variable " + variable;
    return "stored the connection's token in variable " + variable;
  }
  if (const auto* s = std::get_if<SetQueryParameterSpec>(&spec)) {
    return "set query parameter " + Quoted(s->name);
  }
  if (const auto* s = std::get_if<CacheValueSpec>(&spec)) {
    if (s->command == CacheCommand::kLookup) return "set variable " + Quoted(s->variable_name);
    return s->command == CacheCommand::kStore ? "stored a cache value" : "removed a cache value";
  }
  if (const auto* s = std::get_if<SendRequestSpec>(&spec)) {
    if (s->one_way) return "started a one-way request";
    return "set variable " + Quoted(s->response_variable_name);
  }
  if (std::holds_alternative<SetBodySpec>(spec)) return "set the body";
  if (std::holds_alternative<SetStatusSpec>(spec)) {
    return "set the status to " + std::to_string(context.response.status_code);
  }
  if (std::holds_alternative<SetMethodSpec>(spec)) {
    return "set the method to " + context.request.method;
  }
  if (std::holds_alternative<RewriteUriSpec>(spec)) return "rewrote the backend path";
  if (std::holds_alternative<SetBackendServiceSpec>(spec)) return "set the backend service";
  if (std::holds_alternative<ValidateJwtSpec>(spec)) return "the token is valid";
  if (std::holds_alternative<CheckHeaderSpec>(spec)) return "the header check passed";
  if (std::holds_alternative<IpFilterSpec>(spec)) return "the caller's address is allowed";
  if (std::holds_alternative<AuthenticationBasicSpec>(spec)) return "set header 'Authorization'";
  if (std::holds_alternative<ForwardRequestSpec>(spec)) return "set the backend call's options";
  if (std::holds_alternative<ChooseSpec>(spec)) return "ran the first branch whose condition held";
  if (std::holds_alternative<CacheLookupSpec>(spec)) {
    return context.response_cache ? "no stored response" : "the request is not cached";
  }
  if (std::holds_alternative<CacheStoreSpec>(spec)) return "stored the response when cacheable";
  return "";
}

}  // namespace

void Runner::RecordStep(const Statement& statement, Step step, PolicyTrace& trace) {
  TraceStep entry;
  entry.section = std::string(SectionName(section_));
  entry.scope = std::string(ScopeName(scope_));
  entry.statement = statement.name;
  entry.id = statement.id;
  entry.path = statement.path;
  switch (step) {
    case Step::kNext:
      entry.outcome = "completed";
      entry.detail = DescribeEffect(statement, context_);
      break;
    case Step::kRespond:
      entry.outcome = "responded";
      entry.detail = "responded with status " + std::to_string(context_.response.status_code);
      break;
    case Step::kFailed: {
      entry.outcome = "failed";
      // The failed statement may be nested, for example inside choose.
      std::string where = failed_ != nullptr && failed_ != &statement ? failed_->path + ": " : "";
      const Failure& failure = *failure_;
      entry.detail = where + std::to_string(failure.status) + " " + failure.reason + ": " +
                     RedactTokenWords(failure.message);
      break;
    }
  }
  trace.Add(std::move(entry));
}

}  // namespace credgate::policy::internal
