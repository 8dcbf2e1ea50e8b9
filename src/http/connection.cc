#include "http/connection.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>

namespace credgate::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

TimedSocket& Connection::Tcp() {
  return Visit([](auto& stream) -> TimedSocket& { return beast::get_lowest_layer(stream); });
}

bool Connection::LooksReusable() {
  auto& socket = Tcp().socket();
  if (!socket.is_open() || buffer_.size() != 0) return false;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void Connection::Close() {
  boost::system::error_code ignored;
  Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  Tcp().socket().close(ignored);
}

bool IsHttpSyntaxError(const boost::system::error_code& ec) {
  namespace bhttp = boost::beast::http;
  return ec.category() == bhttp::make_error_code(bhttp::error::need_buffer).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::need_buffer;
}

bool IsPeerClose(const boost::system::error_code& ec) {
  namespace bhttp = boost::beast::http;
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

Error TransportError(const boost::system::error_code& ec, std::string_view action,
                     std::string_view authority) {
  if (ec == beast::error::timeout) {
    return MakeError(ErrorCode::kDeadlineExceeded,
                     fmt::format("{} {} timed out", action, authority));
  }
  return MakeError(ErrorCode::kUnavailable,
                   fmt::format("{} {} failed: {}", action, authority, ec.message()));
}

namespace {

// Resolves `origin.host` and connects to the first address that accepts.
asio::awaitable<Result<TimedSocket>> ConnectTcp(const Origin& origin, SteadyTime deadline) {
  auto executor = co_await asio::this_coro::executor;
  const std::string authority = origin.Authority();

  // Resolution has no socket to time out, so it races a timer for the same deadline.
  tcp::resolver resolver(executor);
  asio::steady_timer timer(executor, deadline);
  auto raced =
      co_await (resolver.async_resolve(origin.host, std::to_string(origin.port), kNoThrow) ||
                timer.async_wait(kNoThrow));
  if (raced.index() == 1) {
    co_return TransportError(beast::error::timeout, "resolving", authority);
  }
  auto [resolve_ec, endpoints] = std::get<0>(std::move(raced));
  if (resolve_ec) co_return TransportError(resolve_ec, "resolving", authority);

  // The socket shares the executor of the coroutine that opens it, which (a strand, or an
  // io_context run by one thread) keeps its handlers and its timer's from running concurrently.
  // A strand of the socket's own serialized nothing more, and wrapping it in any_io_executor
  // cost a heap allocation and a mutex lock for each read and write.
  TimedSocket stream(executor);
  stream.expires_at(deadline);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
  if (connect_ec) co_return TransportError(connect_ec, "connecting to", authority);
  boost::system::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  co_return std::move(stream);
}

// Runs the TLS client handshake for `origin` over `stream`, checking its host name or address.
asio::awaitable<Result<std::unique_ptr<Connection>>> StartTls(TimedSocket stream,
                                                              const Origin& origin,
                                                              asio::ssl::context* tls) {
  Connection::TlsStream tls_stream(std::move(stream), *tls);
  SSL* ssl = tls_stream.native_handle();
  if (origin.host_is_ip) {
    // RFC 6066 §3 forbids IP literals in SNI; the certificate must list the address instead.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, origin.host.c_str()) != 1) {
      co_return MakeError(ErrorCode::kInternal,
                          fmt::format("setting the expected IP address {} failed", origin.host));
    }
  } else {
    if (SSL_set_tlsext_host_name(ssl, origin.host.c_str()) != 1 ||
        SSL_set1_host(ssl, origin.host.c_str()) != 1) {
      co_return MakeError(ErrorCode::kInternal,
                          fmt::format("setting the expected host name {} failed", origin.host));
    }
  }
  auto [handshake_ec] =
      co_await tls_stream.async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (handshake_ec) {
    co_return TransportError(handshake_ec, "TLS handshake with", origin.Authority());
  }
  co_return std::make_unique<Connection>(std::move(tls_stream));
}

// Returns "host:port" with the port always present and IPv6 literals bracketed, the
// authority-form of a CONNECT request target (RFC 9112 §3.2.3).
std::string AuthorityWithPort(const Origin& origin) {
  const bool ipv6 = origin.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + origin.host + "]" : origin.host) + ":" + std::to_string(origin.port);
}

}  // namespace

asio::awaitable<Result<std::unique_ptr<Connection>>> Connect(const Origin& origin,
                                                             asio::ssl::context* tls,
                                                             SteadyTime deadline) {
  auto stream = co_await ConnectTcp(origin, deadline);
  if (!stream.ok()) co_return std::move(stream).take_error();
  if (!origin.tls) co_return std::make_unique<Connection>(std::move(stream).value());
  co_return co_await StartTls(std::move(stream).value(), origin, tls);
}

asio::awaitable<Result<std::unique_ptr<Connection>>> ConnectThroughProxy(
    const Origin& proxy, const Origin& target, const std::string& proxy_authorization,
    asio::ssl::context* tls, SteadyTime deadline) {
  auto stream = co_await ConnectTcp(proxy, deadline);
  if (!stream.ok()) co_return std::move(stream).take_error();
  if (!target.tls) co_return std::make_unique<Connection>(std::move(stream).value());

  namespace bhttp = boost::beast::http;
  const std::string tunnel = AuthorityWithPort(target);
  bhttp::request<bhttp::empty_body> connect(bhttp::verb::connect, tunnel, 11);
  connect.set(bhttp::field::host, tunnel);
  if (!proxy_authorization.empty()) {
    connect.set(bhttp::field::proxy_authorization, proxy_authorization);
  }
  auto [write_ec, written] = co_await bhttp::async_write(*stream, connect, kNoThrow);
  if (write_ec) {
    co_return TransportError(write_ec, "sending CONNECT to the proxy", proxy.Authority());
  }

  // A 2xx response to CONNECT has no body: the tunnel starts after its header (RFC 9110 §9.3.6).
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.skip(true);
  auto [read_ec, read] = co_await bhttp::async_read_header(*stream, buffer, parser, kNoThrow);
  if (read_ec) {
    co_return TransportError(read_ec, "reading the CONNECT response of the proxy",
                             proxy.Authority());
  }
  const unsigned status = parser.get().result_int();
  if (status < 200 || status > 299) {
    co_return MakeError(ErrorCode::kUnavailable,
                        fmt::format("the proxy {} responded to CONNECT {} with status {}",
                                    proxy.Authority(), tunnel, status));
  }
  if (buffer.size() != 0) {
    co_return MakeError(ErrorCode::kBadGateway,
                        fmt::format("the proxy {} sent bytes after its CONNECT response",
                                    proxy.Authority()));
  }
  co_return co_await StartTls(std::move(stream).value(), target, tls);
}

}  // namespace credgate::http
