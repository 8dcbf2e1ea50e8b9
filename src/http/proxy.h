// Reverse proxy: forwards a request that arrived on the server (exchange.h) to a backend over a
// pooled keep-alive connection and streams both bodies through a fixed buffer, so neither body
// is held in memory whole.
//
// Forwarding takes two steps so that outbound policies can change the response header between
// them: ProxyRequest() sends the request and returns the backend's response header, then
// RelayResponse() sends the (possibly modified) header and streams the body to the client.
// In both directions the hop-by-hop fields are removed (RFC 9110 §7.6.1) and the body framing
// is set by the proxy: chunked stays chunked and a Content-Length stays that length.
//
// Thread-safe: UpstreamPool may be used from many coroutines on any thread, provided each runs on
// a strand or on an io_context that one thread runs (HttpServer runs every handler on its
// connection's strand or, with ServerOptions::single_thread, on that io_context), because Beast
// runs stream timeout handlers on the coroutine's executor. An UpstreamResponse belongs to the exchange that
// produced it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"
#include "crypto/certificate.h"
#include "http/client_certificates.h"
#include "http/connection_pool.h"
#include "http/exchange.h"
#include "http/url.h"

namespace credgate::http {

using ResponseHeader = boost::beast::http::response_header<>;

// A backend origin with the time limits for one forwarded exchange.
struct Upstream {
  Origin origin;
  std::chrono::milliseconds connect_timeout{5'000};  // Resolve, connect and TLS handshake.
  // From the end of the request until the response header has arrived.
  std::chrono::milliseconds response_timeout{60'000};
  std::chrono::milliseconds io_timeout{60'000};  // Each body read or write may stall this long.
  // The client certificate that an https backend connection presents; null for none.
  // Connections that present one are pooled apart from the others.
  std::shared_ptr<const crypto::Certificate> client_certificate;
};

struct UpstreamOptions {
  PoolOptions pool;
  std::string ca_file;  // Extra trusted CA certificates (PEM) for https backends.
  size_t max_response_header_bytes = 64 * 1024;
  size_t relay_buffer_bytes = 64 * 1024;  // Size of the per-connection body copy buffer.
};

// The backend's response header, with the connection its body is still to be read from.
class UpstreamResponse {
 public:
  UpstreamResponse() = default;
  UpstreamResponse(UpstreamResponse&&) = default;
  UpstreamResponse& operator=(UpstreamResponse&&) = default;
  ~UpstreamResponse();  // Closes the backend connection if RelayResponse() did not take it.

  // The backend's header without its hop-by-hop fields. Copy it to modify it for
  // RelayResponse().
  const ResponseHeader& header() const { return parser_->get().base(); }
  int status() const { return static_cast<int>(header().result_int()); }
  // Moves the header out for RelayResponse(), which saves copying every field. header() keeps
  // the status but has no fields afterwards. The body can still be relayed: the parser keeps
  // the framing it read from the header apart from the fields.
  ResponseHeader TakeHeader() { return std::move(parser_->get().base()); }

 private:
  friend class UpstreamPool;
  using Parser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

  std::unique_ptr<Connection> connection_;
  std::unique_ptr<Parser> parser_;
  std::string pool_key_;
  const boost::asio::execution_context* context_ = nullptr;
  std::chrono::milliseconds io_timeout_{};
};

class UpstreamPool {
 public:
  // Fails with kInvalidArgument when options.ca_file cannot be loaded.
  static Result<std::unique_ptr<UpstreamPool>> Create(UpstreamOptions options);

  // Sends `header` to `upstream` and streams the request body of `exchange` after it, then reads
  // the response header, skipping interim 1xx responses. `header` is usually a copy of
  // exchange.header() with a new target (ComposeTarget() in url.h) and policy changes. The call
  // removes its hop-by-hop fields and Expect, sets Host to the upstream authority, appends the
  // peer address to X-Forwarded-For and sets X-Forwarded-Proto and X-Forwarded-Host.
  // The proxy itself sends "100 Continue" to a client that sent "Expect: 100-continue".
  //
  // Errors: kUnavailable when the backend cannot be reached or breaks the connection,
  // kDeadlineExceeded on a timeout, kBadGateway for a malformed response header and
  // kInvalidArgument for a malformed request body from the client. Messages name the backend
  // authority and may be logged, but should not be sent to the client. A request without a body
  // is sent once more on a new connection when a pooled connection turns out to be closed.
  //
  // With `replacement_body` that body is sent, with its Content-Length, in place of the client's.
  // The client's body then stays unread, so the client connection closes after the response
  // unless the caller read the body. Such a request may be sent twice, like one without a body.
  // The string must outlive the call.
  boost::asio::awaitable<Result<UpstreamResponse>> ProxyRequest(
      ServerExchange& exchange, const Upstream& upstream, RequestHeader header,
      const std::string* replacement_body = nullptr);

  // Forwards the client's request as ProxyRequest() forwards a copy of exchange.header() with
  // `target` as its request target, HTTP/1.1 and without the field named `dropped_field`. A
  // request without a body is written straight from the client's header, without that copy.
  // `dropped_field` must outlive the call. Errors are those of ProxyRequest().
  boost::asio::awaitable<Result<UpstreamResponse>> ProxyRequestAsIs(
      ServerExchange& exchange, const Upstream& upstream, std::string target,
      std::string_view dropped_field);

  // Sends `header` to the client with its hop-by-hop fields removed and the framing of the
  // backend body, then streams the body. The backend connection returns to the pool when both
  // sides completed cleanly and the backend allows keep-alive. On failure the client connection
  // is closed after the call, because the client may have received a partial response.
  // Errors: kUnavailable or kDeadlineExceeded for either side, kBadGateway for a malformed body.
  boost::asio::awaitable<Status> RelayResponse(ServerExchange& exchange,
                                               UpstreamResponse&& response, ResponseHeader header);

  // Reads the whole body of `response`, for an outbound policy that reads it, instead of
  // relaying it. The backend connection returns to the pool when the backend allows keep-alive.
  // Errors: kResourceExhausted when the body is larger than `max_bytes`, kUnavailable or
  // kDeadlineExceeded when reading fails, kBadGateway for a malformed body.
  boost::asio::awaitable<Result<std::string>> ReadResponseBody(UpstreamResponse&& response,
                                                               size_t max_bytes);

  uint64_t ConnectionsOpened() const { return connections_opened_.load(); }
  size_t IdleConnections() const { return pool_.IdleCount(); }

 private:
  UpstreamPool(UpstreamOptions options, std::shared_ptr<boost::asio::ssl::context> tls);

  // ProxyRequest() with `header`, or, when `as_is_target` is not empty, ProxyRequestAsIs()
  // for a request without a body, which ignores `header` but for its method. A request without
  // a body is written from its header without editing it first.
  boost::asio::awaitable<Result<UpstreamResponse>> Forward(ServerExchange& exchange,
                                                           const Upstream& upstream,
                                                           RequestHeader header,
                                                           std::string as_is_target,
                                                           std::string_view dropped_field,
                                                           const std::string* replacement_body);

  const UpstreamOptions options_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  ClientCertificateContexts certificate_contexts_;
  ConnectionPool pool_;
  std::atomic<uint64_t> connections_opened_{0};
};

}  // namespace credgate::http
