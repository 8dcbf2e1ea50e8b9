#include <algorithm>
#include <cctype>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "crypto/certificate.h"
#include "policy/expression_jwt.h"
#include "policy/liquid_context.h"
#include "policy/runner.h"

namespace credgate::policy::internal {

namespace {

bool SameHeaderName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The response headers of send-request as the entries of an IResponse's Headers: one entry per
// name, with the values of a repeated header joined by ",".
Entries ResponseEntries(const http::HeaderList& headers) {
  std::vector<std::pair<std::string, std::string>> joined;
  // A loop over pairs, not structured bindings: clang 14 cannot capture a binding in a lambda.
  for (const auto& header : headers) {
    auto same = std::find_if(joined.begin(), joined.end(), [&header](const auto& entry) {
      return SameHeaderName(entry.first, header.first);
    });
    if (same == joined.end()) {
      joined.emplace_back(header.first, header.second);
    } else {
      same->second += ",";
      same->second += header.second;
    }
  }
  Entries entries;
  entries.reserve(joined.size());
  for (auto& [name, value] : joined) entries.emplace_back(std::move(name), Value(std::move(value)));
  return entries;
}

// Returns an optional template's string, or "" when it is absent.
Result<std::string> OptionalText(const std::optional<ValueTemplate>& value,
                                 const PolicyContext& context) {
  if (!value) return std::string();
  return value->EvaluateString(context);
}

// Returns the client certificate of `spec`: the one parsed at save, or the body and password
// that the spec's expressions return. A body that does not parse fails with kInvalidArgument.
Result<std::shared_ptr<const crypto::Certificate>> ResolveClientCertificate(
    const ClientCertificateSpec& spec, const PolicyContext& context) {
  if (spec.certificate) return spec.certificate;
  auto body = OptionalText(spec.body, context);
  if (!body.ok()) return body.error();
  auto password = OptionalText(spec.password, context);
  if (!password.ok()) return password.error();
  auto certificate = crypto::Certificate::Parse(*body, Secret(std::move(*password)));
  if (!certificate.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid client certificate in <authentication-certificate body>: " +
                         certificate.error().message);
  }
  if ((*certificate)->private_key() == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the client certificate in <authentication-certificate body> has no "
                     "private key");
  }
  return std::shared_ptr<const crypto::Certificate>(std::move(certificate).value());
}

Status SetProxy(const ProxySpec& spec, const PolicyContext& context,
                http::ClientRequest& request) {
  auto url = spec.url.EvaluateString(context);
  if (!url.ok()) return url.error();
  auto username = OptionalText(spec.username, context);
  if (!username.ok()) return username.error();
  auto password = OptionalText(spec.password, context);
  if (!password.ok()) return password.error();
  request.proxy = http::ProxySettings{std::move(*url), std::move(*username),
                                      Secret(std::move(*password))};
  return OkStatus();
}

}  // namespace

std::chrono::seconds Runner::RetryWait(const RetrySpec& spec, int64_t attempt) {
  if (spec.first_fast_retry && attempt == 0) return std::chrono::seconds(0);
  if (!spec.delta) return spec.interval;
  if (!spec.max_interval) return spec.interval + attempt * *spec.delta;
  const int64_t factor = (int64_t{1} << std::min<int64_t>(attempt, 30)) - 1;
  return std::min(spec.interval + factor * *spec.delta, *spec.max_interval);
}

boost::asio::awaitable<Step> Runner::RunRetry(const Statement& statement, const RetrySpec& spec) {
  for (int64_t attempt = 0;; ++attempt) {
    Step step = co_await RunListAsync(spec.statements);
    if (step != Step::kNext || attempt >= spec.count) co_return step;
    auto condition = spec.condition->Evaluate(context_);
    if (!condition.ok()) co_return FailExpression(statement, condition.error());
    if (!condition->is_bool()) {
      co_return FailExpression(
          statement, MakeError(ErrorCode::kInvalidArgument, "the retry condition returned " +
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

boost::asio::awaitable<Step> Runner::RunSendRequest(const Statement& statement,
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
    const bool request_side = section_ == Section::kInbound || section_ == Section::kBackend;
    auto body = internal::EvaluateSetBody(
        *spec.body, context_,
        request_side ? internal::LiquidInput::kRequestBody : internal::LiquidInput::kResponseBody);
    if (!body.ok()) co_return FailExpression(statement, body.error());
    request.body = std::move(body).value();
  }
  if (spec.managed_identity) {
    Step step = co_await RunManagedIdentity(statement, *spec.managed_identity, headers);
    if (step != Step::kNext) co_return step;
  }
  for (const auto& [name, value] : headers.fields()) request.headers.emplace_back(name, value);
  request.timeout = spec.timeout;
  if (spec.client_certificate) {
    auto certificate = ResolveClientCertificate(*spec.client_certificate, context_);
    if (!certificate.ok()) co_return FailExpression(statement, certificate.error());
    request.client_certificate = std::move(certificate).value();
  }
  if (spec.proxy) {
    Status set = SetProxy(*spec.proxy, context_, request);
    if (!set.ok()) co_return FailExpression(statement, set.error());
  }

  if (spec.one_way) {
    co_await services_.SendOneWayRequest(std::move(request));
    co_return Step::kNext;
  }
  Result<http::ClientResponse> response = co_await services_.SendRequest(std::move(request));
  if (response.ok()) {
    context_.variables[spec.response_variable_name] =
        Value(MakeResponse(response->status, "", ResponseEntries(response->headers),
                           std::move(response->body)));
    co_return Step::kNext;
  }
  if (spec.ignore_error) {
    context_.variables[spec.response_variable_name] = Value();
    co_return Step::kNext;
  }
  const bool timeout = response.error().code == ErrorCode::kDeadlineExceeded;
  co_return Fail(statement,
                 Failure{timeout ? 504 : 500, timeout ? "Timeout" : "BackendConnectionFailure",
                         "send-request to the service failed: " +
                             std::string(timeout ? "timed out" : "unreachable")});
}

boost::asio::awaitable<Step> Runner::RunManagedIdentity(const Statement& statement,
                                                        const ManagedIdentitySpec& spec,
                                                        HeaderMap& headers) {
  auto resource = spec.resource.EvaluateString(context_);
  if (!resource.ok()) co_return FailExpression(statement, resource.error());
  std::string resource_text = std::move(resource).value();
  std::string client_id = spec.client_id;
  Result<Secret> token =
      co_await services_.GetManagedIdentityToken(std::move(resource_text), std::move(client_id));
  if (!token.ok()) {
    if (spec.ignore_error) co_return Step::kNext;
    const Error& error = token.error();
    std::string reason =
        error.reason.empty() ? std::string(ErrorCodeName(error.code)) : error.reason;
    co_return Fail(statement,
                   Failure{HttpStatusFor(error.code), std::move(reason), error.message});
  }
  if (!spec.output_token_variable_name.empty()) {
    context_.variables[spec.output_token_variable_name] = Value(std::string(token->Expose()));
  } else {
    std::string authorization = "Bearer ";
    authorization += token->Expose();
    headers.Set("Authorization", std::move(authorization));
  }
  co_return Step::kNext;
}

Step Runner::RunValidateJwt(const Statement& statement, const JwtCheck& check,
                            const ConfigList& configs, bool* unknown_kid) {
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
    context_.variables[check.output_token_variable_name] = Value(ParseJwtObject(**token));
  }
  return Step::kNext;
}

Step Runner::FailJwt(const Statement& statement, const JwtCheck& check, JwtCheckFailure failure) {
  ValidateJwtCounters().rejected.fetch_add(1, std::memory_order_relaxed);
  if (check.failed_message) {
    auto message = check.failed_message->EvaluateString(context_);
    if (!message.ok()) return FailExpression(statement, message.error());
    failure.message = std::move(message).value();
  }
  return Fail(statement,
              Failure{check.failed_status, std::move(failure.reason), std::move(failure.message)});
}

boost::asio::awaitable<Step> Runner::RunValidateJwtAsync(const Statement& statement,
                                                         const JwtCheck& check) {
  ConfigList configs;
  configs.reserve(check.openid_config_urls.size());
  for (const std::string& url : check.openid_config_urls) {
    std::shared_ptr<const identity::OpenIdConfiguration> config =
        services_.FindOpenIdConfiguration(url);
    if (!config) {
      auto loaded = co_await services_.GetOpenIdConfiguration(url, false);
      if (!loaded.ok()) {
        co_return FailJwt(
            statement, check,
            JwtCheckFailure{"TokenSignatureKeyNotFound", "the signing keys could not be loaded"});
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

Step Runner::ApplyAuthenticationCertificate(const Statement& statement,
                                            const AuthenticationCertificateSpec& spec) {
  auto certificate = ResolveClientCertificate(spec.certificate, context_);
  if (!certificate.ok()) return FailExpression(statement, certificate.error());
  context_.backend_client_certificate = std::move(certificate).value();
  return Step::kNext;
}

}  // namespace credgate::policy::internal
