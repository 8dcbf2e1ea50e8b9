// Connection: one outbound HTTP/1.1 connection over plain TCP or TLS over TCP, with the read
// buffer that carries bytes left over between responses. Connect() opens one; ConnectionPool
// (connection_pool.h) keeps idle ones for reuse.
//
// A Connection is used by one coroutine at a time and is not thread-safe. Its timeouts are set
// on the TCP layer (TimedSocket::expires_at), which also bounds the TLS handshake and TLS reads
// and writes because they go through that layer.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "common/result.h"
#include "http/timed_socket.h"
#include "http/url.h"

namespace credgate::http {

using SteadyTime = std::chrono::steady_clock::time_point;

class Connection {
 public:
  using PlainStream = TimedSocket;
  using TlsStream = boost::beast::ssl_stream<TimedSocket>;

  explicit Connection(PlainStream stream) : stream_(std::move(stream)) {}
  explicit Connection(TlsStream stream) : stream_(std::move(stream)) {}

  // Calls `f` with the stream (PlainStream& or TlsStream&) and returns its result, so one
  // generic lambda serves both kinds.
  template <typename F>
  decltype(auto) Visit(F&& f) {
    return std::visit(std::forward<F>(f), stream_);
  }

  TimedSocket& Tcp();
  bool IsTls() const { return stream_.index() == 1; }
  boost::beast::flat_buffer& buffer() { return buffer_; }

  // Reports whether the peer has closed the connection or sent unexpected bytes while it was
  // idle, using a non-blocking peek, so that a pool does not hand out a dead connection.
  bool LooksReusable();

  // Closes the socket without a TLS close_notify; used for connections that will not be reused.
  void Close();

  SteadyTime idle_since{};

 private:
  std::variant<PlainStream, TlsStream> stream_;
  boost::beast::flat_buffer buffer_;
};

// Resolves `origin.host` asynchronously, connects to the first address that accepts, and for a
// TLS origin runs the handshake with SNI and certificate verification against `tls` including
// the host name (RFC 6125 §6) or IP address. `tls` must be non-null for a TLS origin and must
// outlive the connection. Fails with kDeadlineExceeded when `deadline` passes and kUnavailable
// when resolution, connection or handshake (including verification) fails.
boost::asio::awaitable<Result<std::unique_ptr<Connection>>> Connect(const Origin& origin,
                                                                    boost::asio::ssl::context* tls,
                                                                    SteadyTime deadline);

// Connects to `target` through the HTTP forward proxy `proxy`: for a TLS target it opens a tunnel
// with CONNECT, sending `proxy_authorization` (a complete Proxy-Authorization value) when not
// empty, then runs the handshake as Connect() does. For a plain target it returns the connection
// to the proxy, and the caller sends absolute-form requests on it. Errors as Connect(), and
// kUnavailable when the proxy responds to CONNECT with a status other than 2xx.
boost::asio::awaitable<Result<std::unique_ptr<Connection>>> ConnectThroughProxy(
    const Origin& proxy, const Origin& target, const std::string& proxy_authorization,
    boost::asio::ssl::context* tls, SteadyTime deadline);

// Reports whether `ec` is a Beast HTTP syntax or limit error, as opposed to a transport failure
// or the end of the stream.
bool IsHttpSyntaxError(const boost::system::error_code& ec);

// Reports whether `ec` means the peer closed or reset the connection.
bool IsPeerClose(const boost::system::error_code& ec);

// Maps a transport error to kDeadlineExceeded (beast::error::timeout) or kUnavailable, with a message
// naming `action` (for example "connect") and `authority`.
Error TransportError(const boost::system::error_code& ec, std::string_view action,
                     std::string_view authority);

}  // namespace credgate::http
