#include "gateway/token_exchange.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "common/encoding.h"
#include "credentials/model.h"
#include "policy/context.h"

namespace credgate::gateway {

namespace bhttp = boost::beast::http;
using boost::asio::awaitable;

namespace {

constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";
constexpr std::string_view kManagementPrefix = "authorizationProviders/";
constexpr std::string_view kConnectionsSegment = "/authorizations/";

Error RequestError(std::string_view oauth_error, std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), std::string(oauth_error));
}

Error TargetError(std::string_view target, std::string_view why) {
  return RequestError("invalid_target",
                      "the target '" + std::string(target) + "' " + std::string(why) +
                          ": name a connection as <provider>/<connection> or as "
                          "/authorizationProviders/<provider>/authorizations/<connection>");
}

// RFC 6749 §5.2 allows %x20-21 / %x23-5B / %x5D-7E in error_description.
std::string DescriptionText(std::string_view text) {
  std::string cleaned;
  cleaned.reserve(text.size());
  for (char c : text) {
    const bool allowed = c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
    cleaned.push_back(allowed ? c : ' ');
  }
  return cleaned;
}

http::Response NoStoreJson(bhttp::status status, std::string body, unsigned version) {
  http::Response response{status, version};
  response.set(bhttp::field::content_type, "application/json; charset=utf-8");
  // RFC 6749 §5.1: responses that carry a token, or describe why none was issued, are not cached.
  response.set(bhttp::field::cache_control, "no-store");
  response.set(bhttp::field::pragma, "no-cache");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

Result<std::pair<std::string, std::string>> ParseConnectionTarget(std::string_view target) {
  std::string_view path = target;
  const size_t scheme_end = path.find("://");
  if (scheme_end != std::string_view::npos) {
    // An absolute URL: its path after the authority names the connection.
    const size_t path_start = path.find('/', scheme_end + 3);
    if (path_start == std::string_view::npos) return TargetError(target, "has no path");
    path = path.substr(path_start);
    path = path.substr(0, path.find_first_of("?#"));
  }
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);

  std::string_view provider;
  std::string_view connection;
  if (path.starts_with(kManagementPrefix)) {
    std::string_view rest = path.substr(kManagementPrefix.size());
    const size_t segment = rest.find(kConnectionsSegment);
    if (segment == std::string_view::npos) {
      return TargetError(target, "is a management path but not a connection's");
    }
    provider = rest.substr(0, segment);
    connection = rest.substr(segment + kConnectionsSegment.size());
  } else {
    const size_t slash = path.find('/');
    if (slash == std::string_view::npos) return TargetError(target, "names no connection");
    provider = path.substr(0, slash);
    connection = path.substr(slash + 1);
  }
  if (!credentials::IsValidName(provider) || !credentials::IsValidName(connection)) {
    return TargetError(target, "does not contain a valid provider and connection id");
  }
  return std::pair(std::string(provider), std::string(connection));
}

Result<TokenExchangeRequest> ParseTokenExchangeRequest(std::string_view form_body) {
  auto fields = FormDecode(form_body);
  if (!fields) {
    return RequestError("invalid_request", "the request body is not valid form encoding");
  }
  std::optional<std::string> grant_type;
  std::optional<std::string> subject_token;
  std::optional<std::string> subject_token_type;
  std::optional<std::string> requested_token_type;
  std::vector<std::string> targets;
  for (auto& [name, value] : *fields) {
    if (name == "resource" || name == "audience") {
      targets.push_back(std::move(value));
      continue;
    }
    if (name == "actor_token" || name == "actor_token_type") {
      return RequestError("invalid_request", "delegation is not supported: send no actor_token");
    }
    std::optional<std::string>* slot = name == "grant_type"             ? &grant_type
                                       : name == "subject_token"        ? &subject_token
                                       : name == "subject_token_type"   ? &subject_token_type
                                       : name == "requested_token_type" ? &requested_token_type
                                                                        : nullptr;
    if (slot == nullptr) continue;  // scope and unknown parameters are ignored.
    // RFC 6749 §3.2: request parameters must not be included more than once.
    if (slot->has_value()) {
      return RequestError("invalid_request", "the parameter " + name + " is repeated");
    }
    *slot = std::move(value);
  }

  if (!grant_type) return RequestError("invalid_request", "the parameter grant_type is missing");
  if (*grant_type != kTokenExchangeGrantType) {
    return RequestError("unsupported_grant_type", "this endpoint supports only grant_type " +
                                                      std::string(kTokenExchangeGrantType));
  }
  if (!subject_token || subject_token->empty()) {
    return RequestError("invalid_request",
                        "the parameter subject_token is missing: send the caller's JWT");
  }
  if (!subject_token_type) {
    return RequestError("invalid_request", "the parameter subject_token_type is missing");
  }
  if (*subject_token_type != kJwtTokenType && *subject_token_type != kAccessTokenType) {
    return RequestError("invalid_request", "subject_token_type must be " +
                                               std::string(kJwtTokenType) + " or " +
                                               std::string(kAccessTokenType));
  }
  if (requested_token_type && *requested_token_type != kAccessTokenType) {
    return RequestError("invalid_request",
                        "requested_token_type must be " + std::string(kAccessTokenType));
  }
  if (targets.empty()) {
    return RequestError("invalid_request",
                        "name the connection in a resource or audience parameter");
  }

  TokenExchangeRequest request;
  request.subject_token = std::move(*subject_token);
  for (const std::string& target : targets) {
    auto connection = ParseConnectionTarget(target);
    if (!connection.ok()) return connection.error();
    if (request.provider_id.empty()) {
      request.provider_id = connection->first;
      request.connection_id = connection->second;
    } else if (request.provider_id != connection->first ||
               request.connection_id != connection->second) {
      return RequestError("invalid_target",
                          "the resource and audience parameters name different connections; "
                          "one exchange returns the token of one connection");
    }
  }
  return request;
}

OAuthError OAuthErrorFor(const Error& error) {
  if (error.code == ErrorCode::kInvalidArgument) {
    if (error.reason == "unsupported_grant_type") return {400, "unsupported_grant_type"};
    if (error.reason == "invalid_target") return {400, "invalid_target"};
    return {400, "invalid_request"};
  }
  switch (error.code) {
    case ErrorCode::kNotFound:
      // RFC 8693 §2.2.2: a target the server will not issue a token for is invalid_target.
      return {400, "invalid_target"};
    case ErrorCode::kUnauthenticated:
      return {401, "invalid_grant"};
    case ErrorCode::kPermissionDenied:
      return {403, "access_denied"};
    default:
      return {503, "temporarily_unavailable"};
  }
}

http::Response OAuthErrorResponse(const OAuthError& oauth, std::string_view description,
                                  unsigned version) {
  boost::json::object body;
  body["error"] = oauth.error;
  body["error_description"] = DescriptionText(description);
  http::Response response =
      NoStoreJson(static_cast<bhttp::status>(oauth.status), boost::json::serialize(body), version);
  if (oauth.status == 401) {
    response.set(bhttp::field::www_authenticate, "Bearer error=\"invalid_token\"");
  }
  return response;
}

http::Response TokenExchange::Reject(const Error& error, const http::RequestInfo& info,
                                     unsigned version) {
  const OAuthError oauth = OAuthErrorFor(error);
  switch (oauth.status) {
    case 401:
      counters_.invalid_grant.fetch_add(1, std::memory_order_relaxed);
      break;
    case 403:
      counters_.access_denied.fetch_add(1, std::memory_order_relaxed);
      break;
    case 503:
      counters_.unavailable.fetch_add(1, std::memory_order_relaxed);
      break;
    default:
      counters_.invalid_request.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  spdlog::info("token exchange rejected request_id={} error={}: {}", info.request_id, oauth.error,
               error.message);
  return OAuthErrorResponse(oauth, error.message, version);
}

awaitable<http::Response> TokenExchange::Handle(const http::Request& request,
                                                const http::RequestInfo& info) {
  const unsigned version = request.version();
  if (request.method() != bhttp::verb::post) {
    counters_.invalid_request.fetch_add(1, std::memory_order_relaxed);
    http::Response response = OAuthErrorResponse({405, "invalid_request"},
                                                 "the token endpoint accepts only POST", version);
    response.set(bhttp::field::allow, "POST");
    co_return response;
  }
  std::string_view content_type = request[bhttp::field::content_type];
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  if (content_type != kFormContentType) {
    co_return Reject(
        RequestError("invalid_request", "send the request as " + std::string(kFormContentType)),
        info, version);
  }
  auto parsed = ParseTokenExchangeRequest(request.body());
  if (!parsed.ok()) co_return Reject(parsed.error(), info, version);

  policy::AuthorizationContextRequest issue;
  issue.provider_id = parsed->provider_id;
  issue.authorization_id = parsed->connection_id;
  issue.identity_type = policy::IdentityType::kJwt;
  issue.identity_token = std::move(parsed->subject_token);
  policy::PolicyContext context;
  context.request_id = info.request_id;
  auto issued = co_await authorization_.Issue(issue, context);
  if (!issued.ok()) co_return Reject(issued.error(), info, version);

  const credentials::TokenSet& tokens = *issued->tokens;
  boost::json::object body;
  body["access_token"] = tokens.access_token.Expose();
  body["issued_token_type"] = kAccessTokenType;
  body["token_type"] = "Bearer";
  if (tokens.expires_at) {
    const auto remaining =
        std::chrono::duration_cast<std::chrono::seconds>(*tokens.expires_at - clock_.Now());
    body["expires_in"] = std::max<int64_t>(0, remaining.count());
  }
  counters_.issued.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("token exchanged request_id={} connection={}", info.request_id,
               issued->connection_key);
  co_return NoStoreJson(bhttp::status::ok, boost::json::serialize(body), version);
}

}  // namespace credgate::gateway
