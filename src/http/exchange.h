// ServerExchange: one request on a server connection, handed to a StreamingHandler (server.h)
// once the request header has been read and checked. The handler either reads the body and
// responds with Respond(), or passes the exchange to the reverse proxy (proxy.h), which streams
// the body through the low-level accessors below.
//
// An exchange lives only during the handler call and is used by that one coroutine; it is not
// thread-safe. After the handler returns, the server sends a 500 response if none was sent, and
// closes the connection when the request body was not read to its end.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "http/server_stream.h"

namespace credgate::http {

struct RequestInfo {
  // From a valid incoming x-request-id, or random (headers.h, RequestIdFor).
  std::string request_id;
  boost::asio::ip::tcp::endpoint peer;
  uint64_t connection_id = 0;  // Unique per server, for logs.
  // The text form of peer's address, formatted once per connection instead of per request.
  std::string peer_address;
};

using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
using RequestHeader = boost::beast::http::request_header<>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

class ServerExchange {
 public:
  ServerExchange(ServerStream& stream, boost::beast::flat_buffer& buffer, RequestParser& parser,
                 std::vector<char>& relay_buffer, RequestInfo info,
                 std::chrono::milliseconds io_timeout, const bool& stopping)
      : stream_(stream),
        buffer_(buffer),
        parser_(parser),
        relay_buffer_(relay_buffer),
        info_(std::move(info)),
        io_timeout_(io_timeout),
        stopping_(stopping) {}
  ServerExchange(const ServerExchange&) = delete;
  ServerExchange& operator=(const ServerExchange&) = delete;

  const RequestInfo& info() const { return info_; }
  const RequestHeader& header() const { return parser_.get().base(); }

  // Reports whether request body bytes remain to be read.
  bool HasUnreadBody() const { return !parser_.is_done(); }

  // Reads the whole request body, up to `max_bytes`. Sends "100 Continue" first when the client
  // asked for it (RFC 9110 §10.1.1). Fails with kResourceExhausted when the body is larger than
  // `max_bytes` (checked against Content-Length before reading when there is one),
  // kInvalidArgument on a malformed body, kDeadlineExceeded when a read stalls for longer than
  // the server's io_timeout and kUnavailable when the client disconnects.
  boost::asio::awaitable<Result<std::string>> ReadBody(size_t max_bytes);

  // Sends `response` and marks the exchange as responded. The connection stays open for the next
  // request only when both sides allow keep-alive, the request body was read completely and the
  // server is not stopping; otherwise the response carries "Connection: close".
  // Fails with kUnavailable or kDeadlineExceeded when the write fails.
  boost::asio::awaitable<Status> Respond(Response response);

  bool responded() const { return responded_; }
  // The status of the response sent, or 0 before one was sent. Respond() sets it; the reverse
  // proxy sets it with set_response_status() before it relays a backend response.
  int response_status() const { return response_status_; }
  void set_response_status(int status) { response_status_ = status; }
  // Reports whether the server may read another request from this connection.
  bool keep_alive() const { return keep_alive_; }
  // Body bytes read from the client so far, by ReadBody() or the reverse proxy, without framing.
  uint64_t request_body_bytes() const { return request_body_bytes_; }
  // Body bytes sent to the client so far, by Respond() or the reverse proxy, without framing.
  uint64_t response_body_bytes() const { return response_body_bytes_; }
  void add_request_body_bytes(uint64_t bytes) { request_body_bytes_ += bytes; }
  void add_response_body_bytes(uint64_t bytes) { response_body_bytes_ += bytes; }

  // Low-level access for the reverse proxy.
  ServerStream& stream() { return stream_; }
  boost::beast::flat_buffer& buffer() { return buffer_; }
  RequestParser& parser() { return parser_; }
  // A buffer of fixed size owned by the connection and reused by every request on it, for
  // copying body bytes between the client and a backend.
  std::vector<char>& relay_buffer() { return relay_buffer_; }
  std::chrono::milliseconds io_timeout() const { return io_timeout_; }
  // Sends "HTTP/1.1 100 Continue" once if the request carries "Expect: 100-continue".
  boost::asio::awaitable<Status> SendContinueIfExpected();
  // Decides keep-alive for a response with `response_keep_alive` as Respond() does, and marks the
  // exchange as responded. Returns the decision, which the caller writes into its response header.
  bool MarkResponded(bool response_keep_alive);

 private:
  ServerStream& stream_;
  boost::beast::flat_buffer& buffer_;
  RequestParser& parser_;
  std::vector<char>& relay_buffer_;
  const RequestInfo info_;
  const std::chrono::milliseconds io_timeout_;
  const bool& stopping_;
  bool responded_ = false;
  bool keep_alive_ = false;
  bool continue_sent_ = false;
  int response_status_ = 0;
  uint64_t request_body_bytes_ = 0;
  uint64_t response_body_bytes_ = 0;
};

}  // namespace credgate::http
