// HttpClient: the outbound HTTP interface every module uses to reach a token endpoint, a JWKS or
// discovery document, or a backend. It is an interface so that unit tests of the callers inject
// canned responses; PooledHttpClient (pooled_client.h) is the real one.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::crypto {
class Certificate;
}

namespace credgate::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A forward proxy that a request goes through: absolute-form requests for http URLs, and a
// CONNECT tunnel for https URLs (RFC 9110 §9.3.6).
struct ProxySettings {
  std::string url;       // http://host:port of the proxy; https proxies are not supported.
  std::string username;  // Sent with `password` as Proxy-Authorization: Basic; empty for none.
  Secret password;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // Absolute http:// or https:// URL.
  HeaderList headers;
  std::string body;
  // Time allowed for the whole exchange: connect, TLS handshake, write and read.
  std::chrono::milliseconds timeout{10'000};
  // Upper bound on the response body; a larger body fails the call with kBadGateway.
  size_t max_response_body_bytes = 1 << 20;
  // The client certificate for TLS client authentication, with its private key; null for none.
  // Connections made with a certificate are pooled apart from those without.
  std::shared_ptr<const crypto::Certificate> client_certificate;
  std::optional<ProxySettings> proxy;  // nullopt: connect to the URL's host directly.
};

struct ClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;

  // Returns the first header named `name` (compared case-insensitively), or "" when absent.
  std::string_view Header(std::string_view name) const;
};

// Thread-safe: Send() may be called concurrently from any thread running the client's executor.
// Errors: kInvalidArgument for a malformed URL, kUnavailable when the host cannot be reached or
// the connection breaks, kDeadlineExceeded on timeout, kBadGateway for a malformed or oversized
// response. An HTTP error status is not an Error: it is returned as a ClientResponse.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual boost::asio::awaitable<Result<ClientResponse>> Send(ClientRequest request) = 0;
};

}  // namespace credgate::http
