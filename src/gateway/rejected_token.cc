#include "gateway/rejected_token.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "policy/value.h"

namespace credgate::gateway {

namespace bhttp = boost::beast::http;
using boost::asio::awaitable;

namespace {

// Returns the token of "Bearer <token>", or "" for any other value.
std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

}  // namespace

awaitable<Result<policy::Value>> RequestAuthorizations::GetAuthorizationContext(
    const policy::AuthorizationContextRequest& request, policy::PolicyContext& context) {
  if (!request.identity_token.empty()) caller_tokens_.push_back(request.identity_token);
  Result<IssuedToken> issued = co_await service_.Issue(request, context);
  if (!issued.ok()) co_return std::move(issued).take_error();
  const credentials::TokenSet& set = *issued->tokens;
  policy::Value value(
      policy::MakeAuthorization(issued->tokens, set.access_token.Expose(), set.response));
  issued_.push_back(std::move(issued).value());
  co_return value;
}

bool RequestAuthorizations::CarriesCallerToken(std::string_view authorization) const {
  const std::string_view token = BearerToken(authorization);
  if (token.empty()) return false;
  return std::find(caller_tokens_.begin(), caller_tokens_.end(), token) != caller_tokens_.end();
}

const IssuedToken* FindBearer(const std::vector<IssuedToken>& issued,
                              std::string_view authorization) {
  const std::string_view token = BearerToken(authorization);
  if (token.empty()) return nullptr;
  for (const IssuedToken& candidate : issued) {
    if (candidate.tokens->access_token.Equals(token)) return &candidate;
  }
  return nullptr;
}

bool IsReplayable(bhttp::verb method, bool has_body) {
  if (has_body) return false;
  switch (method) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
      return true;
    default:
      return false;
  }
}

awaitable<Result<http::UpstreamResponse>> HandleRejectedToken(
    http::ServerExchange& exchange, http::UpstreamPool& upstreams, const http::Upstream& upstream,
    credentials::TokenManager& tokens, const RequestAuthorizations& authorizations,
    std::string sent_authorization, std::optional<http::RequestHeader> replay,
    http::UpstreamResponse rejected, RejectedTokenCounters& counters) {
  const IssuedToken* issued = FindBearer(authorizations.issued(), sent_authorization);
  if (issued == nullptr) co_return std::move(rejected);
  counters.rejected.fetch_add(1, std::memory_order_relaxed);
  const std::string& request_id = exchange.info().request_id;

  auto refreshed = co_await tokens.Refresh(issued->connection_key, issued->tokens,
                                           credentials::RefreshTrigger::kRejectedByBackend);
  if (!refreshed.ok()) {
    spdlog::warn(
        "backend rejected the token and the refresh failed request_id={} connection={} "
        "reason={}: {}",
        request_id, issued->connection_key, refreshed.error().reason, refreshed.error().message);
    co_return std::move(rejected);
  }
  if (*refreshed == issued->tokens) {
    spdlog::info(
        "backend rejected the token and no newer token is available request_id={} "
        "connection={}",
        request_id, issued->connection_key);
    co_return std::move(rejected);
  }
  if (!replay) {
    spdlog::info(
        "backend rejected the token; refreshed it, but the request cannot be sent again "
        "request_id={} connection={} method={}",
        request_id, issued->connection_key, std::string(exchange.header().method_string()));
    co_return std::move(rejected);
  }

  spdlog::info(
      "backend rejected the token; sending the request again with a refreshed token "
      "request_id={} connection={}",
      request_id, issued->connection_key);
  counters.replayed.fetch_add(1, std::memory_order_relaxed);
  replay->set(bhttp::field::authorization,
              "Bearer " + std::string((*refreshed)->access_token.Expose()));
  {
    // Closes the backend connection of the rejected response before the second attempt.
    http::UpstreamResponse discarded = std::move(rejected);
  }
  co_return co_await upstreams.ProxyRequest(exchange, upstream, std::move(*replay));
}

}  // namespace credgate::gateway
