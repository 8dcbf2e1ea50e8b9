#include "policy/executor.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <optional>

#include "policy/concurrency_slots.h"
#include "policy/jwt_value.h"
#include "policy/request_statements.h"
#include "policy/response_value.h"
#include "policy/traffic_statements.h"
#include "policy/text.h"
#include "policy/validate_jwt.h"

namespace credgate::policy {

namespace {

enum class Step { kNext, kRespond, kFailed };

struct Failure {
  int status = 500;
  std::string reason;
  std::string message;
};

class Runner {
 public:
  Runner(PolicyContext& context, PolicyServices& services, Section section)
      : context_(context), services_(services), section_(section) {}

  boost::asio::awaitable<Step> RunPipeline(const std::vector<PipelineStatement>& statements) {
    for (const PipelineStatement& entry : statements) {
      scope_ = entry.scope;
      Step step = entry.statement->is_async ? co_await RunAsync(*entry.statement)
                                            : RunSync(*entry.statement);
      if (step != Step::kNext) co_return step;
    }
    co_return Step::kNext;
  }

  // Records the failure of the statement that ran last in context.last_error and sets the
  // default error response.
  void RecordFailure() {
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

 private:
  Step Fail(const Statement& statement, Failure failure) {
    failure_ = std::move(failure);
    failed_ = &statement;
    failed_scope_ = scope_;
    return Step::kFailed;
  }
  Step FailExpression(const Statement& statement, const Error& error) {
    return Fail(statement, Failure{500, std::string(kExpressionFailureReason), error.message});
  }

  Step RunList(const StatementList& statements) {
    for (const Statement& statement : statements) {
      Step step = RunSync(statement);
      if (step != Step::kNext) return step;
    }
    return Step::kNext;
  }

  boost::asio::awaitable<Step> RunListAsync(const StatementList& statements) {
    for (const Statement& statement : statements) {
      Step step = statement.is_async ? co_await RunAsync(statement) : RunSync(statement);
      if (step != Step::kNext) co_return step;
    }
    co_return Step::kNext;
  }

  // Returns the branch of `choose` to run, nullptr when none applies, or a failure in *step.
  const StatementList* PickBranch(const Statement& statement, const ChooseSpec& choose,
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

  HeaderMap& TargetHeaders() {
    bool request = section_ == Section::kInbound || section_ == Section::kBackend;
    return request ? context_.request.headers : context_.response.headers;
  }

  Step ApplySetHeader(const Statement& statement, const SetHeaderSpec& spec, HeaderMap& headers) {
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

  Step ApplySetStatus(const Statement& statement, const SetStatusSpec& spec) {
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
    context_.response.status_code = static_cast<int>(status);
    context_.response.reason = std::move(reason).value();
    return Step::kNext;
  }

  Step ApplyReturnResponse(const Statement& statement, const ReturnResponseSpec& spec) {
    context_.response = ResponseState{};
    if (spec.status) {
      Step step = ApplySetStatus(statement, *spec.status);
      if (step != Step::kNext) return step;
    }
    for (const SetHeaderSpec& header : spec.headers) {
      Step step = ApplySetHeader(statement, header, context_.response.headers);
      if (step != Step::kNext) return step;
    }
    if (spec.body) {
      auto body = spec.body->body.EvaluateString(context_);
      if (!body.ok()) return FailExpression(statement, body.error());
      context_.response.body = std::move(body).value();
    }
    context_.response_ready = true;
    return Step::kRespond;
  }

  Step RunSync(const Statement& statement) {
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
      auto body = spec->body.EvaluateString(context_);
      if (!body.ok()) return FailExpression(statement, body.error());
      bool request = section_ == Section::kInbound || section_ == Section::kBackend;
      (request ? context_.request.body : context_.response.body) = std::move(body).value();
      (request ? context_.request_body_set : context_.response_body_set) = true;
      return Step::kNext;
    }
    if (const auto* spec = std::get_if<SetStatusSpec>(&statement.spec)) {
      return ApplySetStatus(statement, *spec);
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
    if (const auto* spec = std::get_if<ValidateJwtSpec>(&statement.spec)) {
      // Without <openid-config> every key is in memory already.
      return RunValidateJwt(statement, *spec->check, {});
    }
    if (const auto* spec = std::get_if<ForwardRequestSpec>(&statement.spec)) {
      context_.forward = ForwardState{true,
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

  boost::asio::awaitable<Step> RunAsync(const Statement& statement) {
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
    if (const auto* spec = std::get_if<RetrySpec>(&statement.spec)) {
      co_return co_await RunRetry(statement, *spec);
    }
    if (const auto* spec = std::get_if<LimitConcurrencySpec>(&statement.spec)) {
      ConcurrencySlots::Slot slot;
      Step step = AcquireSlot(statement, *spec, &slot);
      if (step != Step::kNext) co_return step;
      co_return co_await RunListAsync(spec->statements);
    }
    co_return RunSync(statement);
  }

  // Runs the statements of request_statements.h; nullopt for any other statement.
  std::optional<internal::StatementOutcome> RunRequestStatement(const Statement& statement) {
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
    return std::nullopt;
  }

  // Takes a slot of `spec` for the evaluated key into *slot, or fails with 429.
  Step AcquireSlot(const Statement& statement, const LimitConcurrencySpec& spec,
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

  // Returns the wait before retry number `attempt` (0 for the first): fixed without delta,
  // linear with delta, exponential with delta and max-interval.
  static std::chrono::seconds RetryWait(const RetrySpec& spec, int64_t attempt) {
    if (spec.first_fast_retry && attempt == 0) return std::chrono::seconds(0);
    if (!spec.delta) return spec.interval;
    if (!spec.max_interval) return spec.interval + attempt * *spec.delta;
    const int64_t factor = (int64_t{1} << std::min<int64_t>(attempt, 30)) - 1;
    return std::min(spec.interval + factor * *spec.delta, *spec.max_interval);
  }

  // Runs the statements of <retry>, then again while its condition holds, at most count times.
  boost::asio::awaitable<Step> RunRetry(const Statement& statement, const RetrySpec& spec) {
    for (int64_t attempt = 0;; ++attempt) {
      Step step = co_await RunListAsync(spec.statements);
      if (step != Step::kNext || attempt >= spec.count) co_return step;
      auto condition = spec.condition->Evaluate(context_);
      if (!condition.ok()) co_return FailExpression(statement, condition.error());
      if (!condition->is_bool()) {
        co_return FailExpression(statement,
                                 MakeError(ErrorCode::kInvalidArgument,
                                           "the retry condition returned " +
                                               std::string(condition->TypeName()) +
                                               ", not a Boolean"));
      }
      if (!condition->AsBool()) co_return Step::kNext;
      const std::chrono::seconds wait = RetryWait(spec, attempt);
      if (wait.count() > 0) {
        auto executor = co_await boost::asio::this_coro::executor;
        boost::asio::steady_timer timer(executor, wait);
        auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
        auto [error] = co_await timer.async_wait(token);
        if (error) co_return Step::kNext;  // Cancelled: the request is ending.
      }
    }
  }

  // Builds the request of send-request or send-one-way-request and sends it.
  boost::asio::awaitable<Step> RunSendRequest(const Statement& statement,
                                              const SendRequestSpec& spec) {
    http::ClientRequest request;
    auto url = spec.url.EvaluateString(context_);
    if (!url.ok()) co_return FailExpression(statement, url.error());
    request.url = std::move(url).value();
    request.method = spec.copy_mode ? context_.request.method : "GET";
    if (spec.method) {
      auto method = spec.method->EvaluateString(context_);
      if (!method.ok()) co_return FailExpression(statement, method.error());
      request.method = std::move(method).value();
    }
    HeaderMap headers;
    if (spec.copy_mode) {
      headers = context_.request.headers;
      headers.Remove("Host");
      headers.Remove("Content-Length");
      request.body = context_.request.body;
    }
    for (const SetHeaderSpec& header : spec.headers) {
      Step step = ApplySetHeader(statement, header, headers);
      if (step != Step::kNext) co_return step;
    }
    if (spec.body) {
      auto body = spec.body->body.EvaluateString(context_);
      if (!body.ok()) co_return FailExpression(statement, body.error());
      request.body = std::move(body).value();
    }
    for (const auto& [name, value] : headers.fields()) request.headers.emplace_back(name, value);
    request.timeout = spec.timeout;

    if (spec.one_way) {
      co_await services_.SendOneWayRequest(std::move(request));
      co_return Step::kNext;
    }
    Result<http::ClientResponse> response = co_await services_.SendRequest(std::move(request));
    if (response.ok()) {
      context_.variables[spec.response_variable_name] =
          Value(MakeResponse(response->status, response->headers, std::move(response->body)));
      co_return Step::kNext;
    }
    if (spec.ignore_error) {
      context_.variables[spec.response_variable_name] = Value();
      co_return Step::kNext;
    }
    const bool timeout = response.error().code == ErrorCode::kDeadlineExceeded;
    co_return Fail(statement, Failure{timeout ? 504 : 500,
                                      timeout ? "Timeout" : "BackendConnectionFailure",
                                      "send-request to the service failed: " +
                                          std::string(timeout ? "timed out" : "unreachable")});
  }

  using ConfigList = std::vector<std::shared_ptr<const identity::OpenIdConfiguration>>;

  // Checks the token of `check` against the keys in memory and those of `configs`. Sets
  // *unknown_kid when a refetch of the OpenID configurations might find the token's key.
  Step RunValidateJwt(const Statement& statement, const JwtCheck& check, const ConfigList& configs,
                      bool* unknown_kid = nullptr) {
    JwtCheckFailure failure;
    auto token = ExtractToken(check, context_, &failure);
    if (!token.ok()) return FailExpression(statement, token.error());
    if (!token->has_value()) return FailJwt(statement, check, std::move(failure));
    JwtCheckResult result = CheckToken(check, **token, configs, context_, services_.Now());
    if (result.expression_error) return FailExpression(statement, *result.expression_error);
    if (result.failure) {
      if (unknown_kid != nullptr && result.unknown_kid) {
        *unknown_kid = true;
        return Step::kFailed;
      }
      return FailJwt(statement, check, std::move(*result.failure));
    }
    ValidateJwtCounters().accepted.fetch_add(1, std::memory_order_relaxed);
    if (!check.output_token_variable_name.empty()) {
      context_.variables[check.output_token_variable_name] =
          Value(MakeJwt(result.token->payload));
    }
    return Step::kNext;
  }

  Step FailJwt(const Statement& statement, const JwtCheck& check, JwtCheckFailure failure) {
    ValidateJwtCounters().rejected.fetch_add(1, std::memory_order_relaxed);
    if (check.failed_message) {
      auto message = check.failed_message->EvaluateString(context_);
      if (!message.ok()) return FailExpression(statement, message.error());
      failure.message = std::move(message).value();
    }
    return Fail(statement, Failure{check.failed_status, std::move(failure.reason),
                                   std::move(failure.message)});
  }

  // Loads the OpenID configurations of `check` (from memory once fetched), then checks the
  // token. A token whose kid no loaded key has causes one rate-limited refetch and a retry.
  boost::asio::awaitable<Step> RunValidateJwtAsync(const Statement& statement,
                                                   const JwtCheck& check) {
    ConfigList configs;
    configs.reserve(check.openid_config_urls.size());
    for (const std::string& url : check.openid_config_urls) {
      std::shared_ptr<const identity::OpenIdConfiguration> config =
          services_.FindOpenIdConfiguration(url);
      if (!config) {
        auto loaded = co_await services_.GetOpenIdConfiguration(url, false);
        if (!loaded.ok()) {
          co_return FailJwt(statement, check,
                            JwtCheckFailure{"TokenSignatureKeyNotFound",
                                            "the signing keys could not be loaded"});
        }
        config = std::move(loaded).value();
      }
      configs.push_back(std::move(config));
    }
    bool unknown_kid = false;
    Step step = RunValidateJwt(statement, check, configs, &unknown_kid);
    if (!unknown_kid) co_return step;
    for (size_t i = 0; i < configs.size(); ++i) {
      auto reloaded = co_await services_.GetOpenIdConfiguration(check.openid_config_urls[i], true);
      if (reloaded.ok()) configs[i] = std::move(reloaded).value();
    }
    co_return RunValidateJwt(statement, check, configs);
  }

  boost::asio::awaitable<Step> RunGetAuthorizationContext(const Statement& statement,
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

  // Returns the token of "Authorization: Bearer <token>" (RFC 6750 §2.1), or "".
  static std::string BearerToken(const HeaderMap& headers) {
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

  PolicyContext& context_;
  PolicyServices& services_;
  Section section_;
  PolicyScope scope_ = PolicyScope::kGlobal;
  std::optional<Failure> failure_;
  const Statement* failed_ = nullptr;
  PolicyScope failed_scope_ = PolicyScope::kGlobal;
};

}  // namespace

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
