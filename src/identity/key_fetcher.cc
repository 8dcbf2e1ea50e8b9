#include "identity/key_fetcher.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>

#include "identity/identity_errors.h"

namespace credgate::identity {
namespace {

Error FetchError(const TrustedIssuer& issuer, std::string_view url, std::string_view problem) {
  return MakeError(
      ErrorCode::kUnavailable,
      fmt::format("fetching keys of issuer '{}' from {} failed: {}", issuer.id, url, problem),
      std::string(kReasonKeyFetchFailed));
}

boost::asio::awaitable<Result<std::string>> Get(http::HttpClient& client,
                                                const TrustedIssuer& issuer, std::string url,
                                                size_t max_body_bytes) {
  http::ClientRequest request;
  request.url = url;
  request.headers.emplace_back("Accept", "application/json");
  request.max_response_body_bytes = max_body_bytes;
  Result<http::ClientResponse> response = co_await client.Send(std::move(request));
  if (!response.ok()) co_return FetchError(issuer, url, response.error().message);
  if (response->status != 200) {
    co_return FetchError(issuer, url, fmt::format("HTTP status {}", response->status));
  }
  co_return std::move(response->body);
}

Result<std::string> JwksUriFromDiscovery(const TrustedIssuer& issuer, std::string_view url,
                                         std::string_view body) {
  boost::system::error_code ec;
  boost::json::value document = boost::json::parse(body, ec);
  if (ec || !document.is_object()) {
    return FetchError(issuer, url, "the discovery document is not a JSON object");
  }
  const boost::json::object& object = document.as_object();
  const boost::json::value* document_issuer = object.if_contains("issuer");
  if (document_issuer == nullptr || !document_issuer->is_string() ||
      document_issuer->as_string() != issuer.issuer) {
    return FetchError(issuer, url,
                      "the discovery document's 'issuer' does not equal the configured issuer");
  }
  const boost::json::value* jwks_uri = object.if_contains("jwks_uri");
  if (jwks_uri == nullptr || !jwks_uri->is_string()) {
    return FetchError(issuer, url, "the discovery document has no string 'jwks_uri'");
  }
  std::string result(jwks_uri->as_string());
  if (!IsAllowedKeyUrl(result)) {
    return FetchError(issuer, url, fmt::format("'jwks_uri' {} is not an https URL", result));
  }
  return result;
}

}  // namespace

boost::asio::awaitable<Result<std::shared_ptr<const KeySet>>> FetchKeySet(http::HttpClient& client,
                                                                          TrustedIssuer issuer) {
  std::string jwks_uri;
  if (issuer.jwks_uri) {
    jwks_uri = *issuer.jwks_uri;
  } else {
    const std::string discovery_url = DiscoveryUrl(issuer.issuer);
    Result<std::string> body = co_await Get(client, issuer, discovery_url, kMaxDiscoveryBytes);
    if (!body.ok()) co_return body.error();
    Result<std::string> uri = JwksUriFromDiscovery(issuer, discovery_url, *body);
    if (!uri.ok()) co_return uri.error();
    jwks_uri = std::move(uri).value();
  }

  Result<std::string> body = co_await Get(client, issuer, jwks_uri, kMaxJwksBytes);
  if (!body.ok()) co_return body.error();
  Result<std::shared_ptr<const KeySet>> keys = ParseJwks(*body);
  if (!keys.ok()) co_return FetchError(issuer, jwks_uri, keys.error().message);
  co_return std::move(keys).value();
}

}  // namespace credgate::identity
