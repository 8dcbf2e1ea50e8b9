#include "policy/executor.h"

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <optional>

#include "policy/liquid_context.h"
#include "policy/response_cache.h"
#include "policy/runner.h"
#include "policy/text.h"
#include "policy/trace.h"
#include "policy/traffic_statements.h"

namespace credgate::policy {

namespace internal {

Runner::Runner(PolicyContext& context, PolicyServices& services, Section section)
    : context_(context), services_(services), section_(section) {}

boost::asio::awaitable<Step> Runner::RunPipeline(const std::vector<PipelineStatement>& statements) {
  for (const PipelineStatement& entry : statements) {
    scope_ = entry.scope;
    Step step = entry.statement->is_async ? co_await RunAsync(*entry.statement)
                                          : RunSync(*entry.statement);
    if (PolicyTrace* trace = services_.trace()) RecordStep(*entry.statement, step, *trace);
    if (step != Step::kNext) co_return step;
  }
  co_return Step::kNext;
}

void Runner::RecordFailure() {
  const Failure& failure = *failure_;
  context_.last_error = LastErrorState{failed_->name,
                                       failure.reason,
                                       failure.message,
                                       std::string(ScopeName(failed_scope_)),
                                       std::string(SectionName(section_)),
                                       failed_->path,
                                       failed_->id};
  boost::json::object body;
  body["statusCode"] = failure.status;
  body["message"] = failure.message;
  context_.response = ResponseState{};
  context_.response.status_code = failure.status;
  context_.response.headers.Set("Content-Type", "application/json");
  context_.response.body = boost::json::serialize(body);
  context_.response_ready = true;
}

Step Runner::Fail(const Statement& statement, Failure failure) {
  failure_ = std::move(failure);
  failed_ = &statement;
  failed_scope_ = scope_;
  return Step::kFailed;
}

Step Runner::FailExpression(const Statement& statement, const Error& error) {
  return Fail(statement, Failure{500, std::string(kExpressionFailureReason), error.message});
}

Step Runner::RunList(const StatementList& statements) {
  for (const Statement& statement : statements) {
    Step step = RunSync(statement);
    if (step != Step::kNext) return step;
  }
  return Step::kNext;
}

boost::asio::awaitable<Step> Runner::RunListAsync(const StatementList& statements) {
  for (const Statement& statement : statements) {
    Step step = statement.is_async ? co_await RunAsync(statement) : RunSync(statement);
    if (step != Step::kNext) co_return step;
  }
  co_return Step::kNext;
}

const StatementList* Runner::PickBranch(const Statement& statement, const ChooseSpec& choose,
                                Step* step) {
  *step = Step::kNext;
  for (const WhenClause& when : choose.when) {
    auto value = when.condition->Evaluate(context_);
    if (!value.ok()) {
      *step = FailExpression(statement, value.error());
      return nullptr;
    }
    if (!value->is_bool()) {
      *step = FailExpression(
          statement, MakeError(ErrorCode::kInvalidArgument, "a when condition returned " +
                                                                std::string(value->TypeName()) +
                                                                ", not a Boolean"));
      return nullptr;
    }
    if (value->AsBool()) return &when.statements;
  }
  return choose.otherwise ? &*choose.otherwise : nullptr;
}

HeaderMap& Runner::TargetHeaders() {
  bool request = section_ == Section::kInbound || section_ == Section::kBackend;
  return request ? context_.request.headers : context_.response.headers;
}

Step Runner::ApplySetHeader(const Statement& statement, const SetHeaderSpec& spec,
                            HeaderMap& headers) {
  if (&headers == &context_.request.headers &&
      boost::beast::iequals(spec.name, "Authorization")) {
    context_.authorization_set = true;
  }
  if (spec.exists_action == ExistsAction::kDelete) {
    headers.Remove(spec.name);
    return Step::kNext;
  }
  if (spec.exists_action == ExistsAction::kSkip && headers.Contains(spec.name)) {
    return Step::kNext;
  }
  // The values are evaluated before the header changes, so that an expression can read the
  // value it replaces.
  std::vector<std::string> texts;
  texts.reserve(spec.values.size());
  for (const ValueTemplate& value : spec.values) {
    auto text = value.EvaluateString(context_);
    if (!text.ok()) return FailExpression(statement, text.error());
    texts.push_back(std::move(text).value());
  }
  if (spec.exists_action == ExistsAction::kOverride) headers.Remove(spec.name);
  if (texts.empty() && spec.exists_action == ExistsAction::kOverride) {
    headers.Append(spec.name, "");
  }
  for (std::string& text : texts) headers.Append(spec.name, std::move(text));
  return Step::kNext;
}

Step Runner::ApplySetStatus(const Statement& statement, const SetStatusSpec& spec,
                            ResponseState& target) {
  auto code = spec.code.Evaluate(context_);
  if (!code.ok()) return FailExpression(statement, code.error());
  int64_t status = 0;
  if (code->is_int()) {
    status = code->AsInt();
  } else if (code->is_string()) {
    status = std::strtoll(code->AsString().c_str(), nullptr, 10);
  }
  if (status < 100 || status > 599) {
    return FailExpression(statement, MakeError(ErrorCode::kInvalidArgument,
                                               "set-status code '" + code->ToString() +
                                                   "' is not an integer from 100 to 599"));
  }
  auto reason = spec.reason.EvaluateString(context_);
  if (!reason.ok()) return FailExpression(statement, reason.error());
  target.status_code = static_cast<int>(status);
  target.reason = std::move(reason).value();
  return Step::kNext;
}

Step Runner::ApplyReturnResponse(const Statement& statement, const ReturnResponseSpec& spec) {
  // The children build a new response, and their expressions still read the current one, as
  // on-error's <set-status code="@(context.Response.StatusCode)"/> does.
  ResponseState built;
  if (!spec.response_variable_name.empty()) {
    // The children then change the response that the variable holds.
    auto variable = context_.variables.find(spec.response_variable_name);
    std::optional<ResponseParts> parts;
    if (variable != context_.variables.end()) parts = ResponsePartsOf(variable->second);
    if (!parts) {
      return FailExpression(
          statement, MakeError(ErrorCode::kInvalidArgument,
                               "return-response: the variable '" + spec.response_variable_name +
                                   "' does not hold a response from send-request"));
    }
    built.status_code = parts->status_code;
    built.reason = std::move(parts->reason);
    for (auto& [name, value] : parts->headers) {
      // Content-Length and the framing are set for the body that is sent.
      if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding")) {
        continue;
      }
      built.headers.Append(name, std::move(value));
    }
    built.body = std::move(parts->body);
  }
  if (spec.status) {
    Step step = ApplySetStatus(statement, *spec.status, built);
    if (step != Step::kNext) return step;
  }
  for (const SetHeaderSpec& header : spec.headers) {
    Step step = ApplySetHeader(statement, header, built.headers);
    if (step != Step::kNext) return step;
  }
  if (spec.body) {
    // APIM renders a Liquid template of return-response with an empty body.
    auto body = internal::EvaluateSetBody(*spec.body, context_, internal::LiquidInput::kEmpty);
    if (!body.ok()) return FailExpression(statement, body.error());
    built.body = std::move(body).value();
  }
  context_.response = std::move(built);
  context_.response_ready = true;
  return Step::kRespond;
}

Step Runner::RunSync(const Statement& statement) {
  if (const auto* spec = std::get_if<SetHeaderSpec>(&statement.spec)) {
    return ApplySetHeader(statement, *spec, TargetHeaders());
  }
  if (const auto* spec = std::get_if<SetVariableSpec>(&statement.spec)) {
    auto value = spec->value.Evaluate(context_);
    if (!value.ok()) return FailExpression(statement, value.error());
    context_.variables[spec->name] = std::move(value).value();
    return Step::kNext;
  }
  if (const auto* spec = std::get_if<SetBodySpec>(&statement.spec)) {
    bool request = section_ == Section::kInbound || section_ == Section::kBackend;
    auto body = internal::EvaluateSetBody(
        *spec, context_,
        request ? internal::LiquidInput::kRequestBody : internal::LiquidInput::kResponseBody);
    if (!body.ok()) return FailExpression(statement, body.error());
    (request ? context_.request.body : context_.response.body) = std::move(body).value();
    (request ? context_.request_body_set : context_.response_body_set) = true;
    return Step::kNext;
  }
  if (const auto* spec = std::get_if<SetStatusSpec>(&statement.spec)) {
    return ApplySetStatus(statement, *spec, context_.response);
  }
  if (const auto* spec = std::get_if<ChooseSpec>(&statement.spec)) {
    Step step;
    const StatementList* branch = PickBranch(statement, *spec, &step);
    if (branch == nullptr) return step;
    return RunList(*branch);
  }
  if (const auto* spec = std::get_if<ReturnResponseSpec>(&statement.spec)) {
    return ApplyReturnResponse(statement, *spec);
  }
  if (const auto* spec = std::get_if<LimitConcurrencySpec>(&statement.spec)) {
    ConcurrencySlots::Slot slot;
    Step step = AcquireSlot(statement, *spec, &slot);
    if (step != Step::kNext) return step;
    return RunList(spec->statements);
  }
  if (auto outcome = RunRequestStatement(statement)) {
    if (outcome->failure) {
      internal::StatementFailure& failure = *outcome->failure;
      return Fail(statement, Failure{failure.status, std::move(failure.reason),
                                     std::move(failure.message)});
    }
    return outcome->respond ? Step::kRespond : Step::kNext;
  }
  if (const auto* spec = std::get_if<AuthenticationCertificateSpec>(&statement.spec)) {
    return ApplyAuthenticationCertificate(statement, *spec);
  }
  if (const auto* spec = std::get_if<ValidateJwtSpec>(&statement.spec)) {
    // Without <openid-config> every key is in memory already.
    return RunValidateJwt(statement, *spec->check, {});
  }
  if (const auto* spec = std::get_if<ForwardRequestSpec>(&statement.spec)) {
    context_.forward = ForwardState{true,
                                    spec->timeout_set,
                                    spec->timeout,
                                    spec->buffer_request_body,
                                    spec->buffer_response,
                                    spec->follow_redirects,
                                    spec->fail_on_error_status_code};
    return Step::kNext;
  }
  // <base/> never reaches a composed pipeline; asynchronous statements go through RunAsync.
  return Step::kNext;
}

boost::asio::awaitable<Step> Runner::RunAsync(const Statement& statement) {
  if (const auto* spec = std::get_if<ChooseSpec>(&statement.spec)) {
    Step step;
    const StatementList* branch = PickBranch(statement, *spec, &step);
    if (branch == nullptr) co_return step;
    co_return co_await RunListAsync(*branch);
  }
  if (const auto* spec = std::get_if<GetAuthorizationContextSpec>(&statement.spec)) {
    co_return co_await RunGetAuthorizationContext(statement, *spec);
  }
  if (const auto* spec = std::get_if<ValidateJwtSpec>(&statement.spec)) {
    co_return co_await RunValidateJwtAsync(statement, *spec->check);
  }
  if (const auto* spec = std::get_if<SendRequestSpec>(&statement.spec)) {
    co_return co_await RunSendRequest(statement, *spec);
  }
  if (const auto* spec = std::get_if<ManagedIdentitySpec>(&statement.spec)) {
    const bool sets_header = spec->output_token_variable_name.empty();
    Step step = co_await RunManagedIdentity(statement, *spec, context_.request.headers);
    if (step == Step::kNext && sets_header) context_.authorization_set = true;
    co_return step;
  }
  if (const auto* spec = std::get_if<RetrySpec>(&statement.spec)) {
    co_return co_await RunRetry(statement, *spec);
  }
  if (const auto* spec = std::get_if<ForwardRequestSpec>(&statement.spec);
      spec != nullptr && spec->sends_now) {
    co_return co_await RunForwardRequest(statement, *spec);
  }
  if (const auto* spec = std::get_if<LimitConcurrencySpec>(&statement.spec)) {
    ConcurrencySlots::Slot slot;
    Step step = AcquireSlot(statement, *spec, &slot);
    if (step != Step::kNext) co_return step;
    co_return co_await RunListAsync(spec->statements);
  }
  co_return RunSync(statement);
}

std::optional<internal::StatementOutcome> Runner::RunRequestStatement(
    const Statement& statement) {
  using namespace internal;
  const StatementSpec& spec = statement.spec;
  if (const auto* s = std::get_if<SetMethodSpec>(&spec)) return ApplySetMethod(*s, context_);
  if (const auto* s = std::get_if<RewriteUriSpec>(&spec)) return ApplyRewriteUri(*s, context_);
  if (const auto* s = std::get_if<SetQueryParameterSpec>(&spec)) {
    return ApplySetQueryParameter(*s, context_);
  }
  if (const auto* s = std::get_if<SetBackendServiceSpec>(&spec)) {
    return ApplySetBackendService(*s, context_);
  }
  if (const auto* s = std::get_if<CheckHeaderSpec>(&spec)) return ApplyCheckHeader(*s, context_);
  if (const auto* s = std::get_if<IpFilterSpec>(&spec)) return ApplyIpFilter(*s, context_);
  if (const auto* s = std::get_if<CorsSpec>(&spec)) return ApplyCors(*s, context_);
  if (const auto* s = std::get_if<MockResponseSpec>(&spec)) return ApplyMockResponse(*s, context_);
  if (const auto* s = std::get_if<AuthenticationBasicSpec>(&spec)) {
    return ApplyAuthenticationBasic(*s, context_);
  }
  if (const auto* s = std::get_if<TraceSpec>(&spec)) return ApplyTrace(*s, context_);
  if (const auto* s = std::get_if<RateLimitSpec>(&spec)) {
    return ApplyRateLimit(*s, context_, services_.Now());
  }
  if (const auto* s = std::get_if<CacheValueSpec>(&spec)) {
    return ApplyCacheValue(*s, context_, services_.Now());
  }
  if (const auto* s = std::get_if<CacheLookupSpec>(&spec)) {
    return ApplyCacheLookup(*s, context_, services_.Now());
  }
  if (const auto* s = std::get_if<CacheStoreSpec>(&spec)) {
    return ApplyCacheStore(*s, context_, services_.Now());
  }
  return std::nullopt;
}

Step Runner::AcquireSlot(const Statement& statement, const LimitConcurrencySpec& spec,
                 ConcurrencySlots::Slot* slot) {
  auto key = spec.key.EvaluateString(context_);
  if (!key.ok()) return FailExpression(statement, key.error());
  ConcurrencySlots::Slot taken = ConcurrencySlots::TryAcquire(spec.slots, *key, spec.max_count);
  if (!taken) {
    return Fail(statement, Failure{429, "ConcurrencyLimitExceeded",
                                   "Too many concurrent requests. Try again later."});
  }
  std::destroy_at(slot);
  std::construct_at(slot, std::move(taken));
  return Step::kNext;
}

boost::asio::awaitable<Step> Runner::RunGetAuthorizationContext(const Statement& statement,
                                                        const GetAuthorizationContextSpec& spec) {
  AuthorizationContextRequest request;
  request.identity_type = spec.identity_type;
  auto provider = spec.provider_id.EvaluateString(context_);
  if (!provider.ok()) co_return FailExpression(statement, provider.error());
  auto authorization = spec.authorization_id.EvaluateString(context_);
  if (!authorization.ok()) co_return FailExpression(statement, authorization.error());
  request.provider_id = std::move(provider).value();
  request.authorization_id = std::move(authorization).value();
  if (spec.identity_type == IdentityType::kJwt) {
    if (spec.identity) {
      auto identity = spec.identity->EvaluateString(context_);
      if (!identity.ok()) co_return FailExpression(statement, identity.error());
      request.identity_token = std::move(identity).value();
    } else {
      request.identity_token = BearerToken(context_.request.headers);
    }
  }

  Result<Value> result = co_await services_.GetAuthorizationContext(request, context_);
  if (result.ok()) {
    context_.variables[spec.context_variable_name] = std::move(result).value();
    co_return Step::kNext;
  }
  if (spec.ignore_error) {
    context_.variables[spec.context_variable_name] = Value();
    co_return Step::kNext;
  }
  const Error& error = result.error();
  std::string reason =
      error.reason.empty() ? std::string(ErrorCodeName(error.code)) : error.reason;
  co_return Fail(statement, Failure{HttpStatusFor(error.code), std::move(reason), error.message});
}

boost::asio::awaitable<Step> Runner::RunForwardRequest(const Statement& statement,
                                                       const ForwardRequestSpec& spec) {
  Status sent = co_await services_.ForwardRequest(spec, context_);
  if (!sent.ok()) {
    const Error& error = sent.error();
    std::string reason =
        error.reason.empty() ? std::string(ErrorCodeName(error.code)) : error.reason;
    co_return Fail(statement, Failure{HttpStatusFor(error.code), std::move(reason), error.message});
  }
  const int status = context_.response.status_code;
  if (spec.fail_on_error_status_code && status >= 400 && status <= 599) {
    co_return Fail(statement, Failure{status, "BackendError",
                                      "The backend responded with status " +
                                          std::to_string(status)});
  }
  co_return Step::kNext;
}

std::string Runner::BearerToken(const HeaderMap& headers) {
  std::optional<std::string_view> value = headers.Get("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (!value || value->size() <= kScheme.size() ||
      !EqualsIgnoreCase(value->substr(0, kScheme.size()), kScheme)) {
    return "";
  }
  std::string_view token = value->substr(kScheme.size());
  size_t first = token.find_first_not_of(' ');
  return first == std::string_view::npos ? "" : std::string(token.substr(first));
}

}  // namespace internal

using internal::Runner;
using internal::Step;

std::shared_ptr<const identity::OpenIdConfiguration> PolicyServices::FindOpenIdConfiguration(
    std::string_view) {
  return nullptr;
}

boost::asio::awaitable<Result<std::shared_ptr<const identity::OpenIdConfiguration>>>
PolicyServices::GetOpenIdConfiguration(const std::string& url, bool) {
  co_return MakeError(ErrorCode::kUnavailable,
                      "no OpenID configuration source is available for " + url);
}

boost::asio::awaitable<Result<http::ClientResponse>> PolicyServices::SendRequest(
    http::ClientRequest request) {
  co_return MakeError(ErrorCode::kUnavailable, "no HTTP client is available for " + request.url);
}

boost::asio::awaitable<void> PolicyServices::SendOneWayRequest(http::ClientRequest) { co_return; }

boost::asio::awaitable<Result<Secret>> PolicyServices::GetManagedIdentityToken(std::string,
                                                                              std::string) {
  co_return MakeError(ErrorCode::kInternal,
                      "the gateway has no managed identity token source; set "
                      "managedIdentity.tokenProvider in the configuration",
                      "ManagedIdentityNotConfigured");
}

boost::asio::awaitable<Status> PolicyServices::ForwardRequest(const ForwardRequestSpec&,
                                                              PolicyContext&) {
  co_return MakeError(ErrorCode::kUnavailable, "no backend is available to forward the request to",
                      "BackendConnectionFailure");
}

TimePoint PolicyServices::Now() const { return std::chrono::system_clock::now(); }

boost::asio::awaitable<ExecutionOutcome> Execute(const CompiledPipeline& pipeline, Section section,
                                                 PolicyContext& context, PolicyServices& services) {
  Runner runner(context, services, section);
  Step step = co_await runner.RunPipeline(pipeline.section(section));
  if (step == Step::kNext) {
    co_return section == Section::kOnError ? ExecutionOutcome::kRespond
                                           : ExecutionOutcome::kContinue;
  }
  if (step == Step::kRespond) co_return ExecutionOutcome::kRespond;

  runner.RecordFailure();
  if (section == Section::kOnError) co_return ExecutionOutcome::kRespond;

  // on-error may change the error response; a failure inside it replaces LastError and the
  // response with its own, and ends the request.
  Runner on_error(context, services, Section::kOnError);
  Step handled = co_await on_error.RunPipeline(pipeline.section(Section::kOnError));
  if (handled == Step::kFailed) on_error.RecordFailure();
  co_return ExecutionOutcome::kRespond;
}

}  // namespace credgate::policy
