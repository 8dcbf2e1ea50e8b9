// HttpServer: an HTTP/1.1 server on one TCP endpoint (IPv4 or IPv6). An accept loop starts one
// coroutine per connection. Each connection serves requests one after another with keep-alive,
// without pipelining, and hands each checked request header to a StreamingHandler.
// MakeBufferedHandler (buffered.h) adapts a handler that wants the whole request and response
// in memory.
//
// Before the handler runs, the server rejects a header larger than max_header_bytes with 431,
// an unparsable header with 400 and the request smuggling shapes of CheckRequestFraming
// (headers.h) with 400, each followed by closing the connection. A client that does not finish
// its header within header_timeout, or sends nothing for idle_timeout between requests, is
// disconnected without a response.
//
// With options.tls the server speaks HTTPS: each accepted connection first completes a TLS
// handshake within handshake_timeout, using the context that is current in options.tls at accept time.
// A failed or timed-out handshake closes that connection and counts in options.tls's counters;
// handshakes run asynchronously, so a slow one never delays other connections.
//
// Threading: the server runs on an io_context the caller owns and runs. Each connection runs on
// its own strand, so several threads may run one io_context, unless options.single_thread
// declares that one thread runs it. For one io_context per core, list them all in
// options.connection_contexts: the server accepts on its own io_context and hands the
// connections to them in turn, so each gets the same number. Start(), Stop() and Drained() may
// be called from any thread. The server may be destroyed while connections remain: they keep the shared state alive
// and finish on their own.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "common/result.h"
#include "http/exchange.h"
#include "http/server_tls.h"

namespace credgate::http {

using StreamingHandler = std::function<boost::asio::awaitable<void>(ServerExchange&)>;

struct ServerOptions {
  boost::asio::ip::tcp::endpoint endpoint;  // Port 0 picks a free port; see Start().
  size_t max_header_bytes = 16 * 1024;      // Request line plus fields.
  // Time from the first byte of a request until its header is complete (a slowloris defence).
  std::chrono::milliseconds header_timeout{10'000};
  // Time a keep-alive connection may wait for the next request.
  std::chrono::milliseconds idle_timeout{60'000};
  // Time each body read or response write may stall.
  std::chrono::milliseconds io_timeout{30'000};
  // The io_contexts that run the accepted connections, each taking the next connection in turn.
  // Empty: the io_context given to the constructor. Each must outlive the server's connections.
  // With one io_context per core this spreads connections evenly. SO_REUSEPORT with one server
  // per io_context spreads them by a hash of their addresses instead. For 64 connections on two
  // servers, that gives a split of 36 to 28 or worse with a probability of 38% (binomial).
  std::vector<boost::asio::io_context*> connection_contexts;
  // Set when exactly one thread runs the io_context. Connections then run on the io_context's
  // executor without a strand, which saves the strand's lock and queue on every completion
  // (about 14,000 of 126,000 instructions of a proxied request under callgrind).
  bool single_thread = false;
  // The certificate and key for HTTPS; null serves plain HTTP. Several servers may share one.
  std::shared_ptr<ServerTls> tls;
  // Time from accepting a connection until its TLS handshake is complete.
  std::chrono::milliseconds handshake_timeout{10'000};
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io_context, ServerOptions options, StreamingHandler handler);
  ~HttpServer();  // Calls Stop().
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts accepting. Returns the bound endpoint, whose port is the one the
  // kernel chose when options.endpoint has port 0. Fails with kUnavailable when the endpoint
  // cannot be bound (in use, no permission) and kFailedPrecondition when already started.
  Result<boost::asio::ip::tcp::endpoint> Start();

  // Closes the listening socket and tells every connection to finish. Requests in progress run
  // to completion with "Connection: close" on their responses, and idle keep-alive connections
  // close now. Idempotent.
  void Stop();

  // Waits until every connection has ended or `deadline` has passed, whichever is first.
  // Returns true when all connections ended. Call it after Stop().
  boost::asio::awaitable<bool> Drained(std::chrono::milliseconds deadline);

  size_t ActiveConnections() const;
  uint64_t AcceptedConnections() const;

  struct State;  // Shared with the connection coroutines.

 private:
  std::shared_ptr<State> state_;
};

}  // namespace credgate::http
