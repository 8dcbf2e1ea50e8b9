#include "http/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "http/connection.h"
#include "http/headers.h"

namespace credgate::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kFirstReadBytes = 4096;

// One client connection. All members are used only on `executor`, a strand or, with
// ServerOptions::single_thread, the io_context's own executor.
struct Session {
  Session(asio::any_io_executor executor_in, tcp::socket socket, uint64_t id_in,
          std::shared_ptr<asio::ssl::context> tls_context_in)
      : executor(std::move(executor_in)),
        tls_context(std::move(tls_context_in)),
        stream(MakeStream(std::move(socket), tls_context.get())),
        id(id_in) {}

  static ServerStream MakeStream(tcp::socket socket, asio::ssl::context* tls_context) {
    TimedSocket tcp(std::move(socket));
    if (tls_context == nullptr) return ServerStream(std::move(tcp));
    return ServerStream(ServerStream::TlsStream(std::move(tcp), *tls_context));
  }

  asio::any_io_executor executor;
  // The context the connection was accepted with, kept alive for the connection's lifetime even
  // after a reload replaced it for new connections. Null for plain HTTP.
  std::shared_ptr<asio::ssl::context> tls_context;
  ServerStream stream;
  beast::flat_buffer buffer;
  std::vector<char> relay_buffer;  // Sized by the reverse proxy on first use.
  uint64_t id;
  bool idle = false;
  bool stopping = false;
};

}  // namespace

struct HttpServer::State {
  State(asio::io_context& io_context_in, ServerOptions options_in, StreamingHandler handler_in)
      : io_context(io_context_in),
        options(std::move(options_in)),
        handler(std::move(handler_in)),
        acceptor_strand(asio::make_strand(io_context_in)),
        acceptor(acceptor_strand) {}

  asio::io_context& io_context;
  const ServerOptions options;
  const StreamingHandler handler;
  asio::strand<asio::io_context::executor_type> acceptor_strand;
  tcp::acceptor acceptor;  // Used only on acceptor_strand once started.

  size_t next_context = 0;  // Index into options.connection_contexts, used on acceptor_strand.

  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<size_t> active{0};
  std::atomic<uint64_t> accepted{0};

  std::mutex mutex;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;  // Guarded by mutex.
};

namespace {

using State = HttpServer::State;

// NOTE: a TLS connection closes without a close_notify alert. Responses delimited by
// Content-Length or chunked encoding still show a truncation, but an HTTP/1.0 client that reads
// a relayed body of unknown length until the close cannot tell a truncated body from a whole one.
void CloseGracefully(Session& session) {
  boost::system::error_code ignored;
  session.stream.Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
  session.stream.Tcp().close();
}

// Runs the server side of the TLS handshake within handshake_timeout. Returns false, after
// counting the failure, when it fails or times out.
asio::awaitable<bool> Handshake(State& state, Session& session) {
  session.stream.expires_after(state.options.handshake_timeout);
  auto [ec] =
      co_await session.stream.Tls().async_handshake(asio::ssl::stream_base::server, kNoThrow);
  if (!ec) co_return true;
  state.options.tls->CountFailedHandshake();
  spdlog::debug("http server: TLS handshake on connection {} failed: {}", session.id, ec.message());
  co_return false;
}

asio::awaitable<void> SendErrorAndClose(Session& session, bhttp::status status,
                                        std::string_view message) {
  Response response(status, 11);
  response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  response.keep_alive(false);
  response.body() = fmt::format("{}\n", message);
  response.prepare_payload();
  session.stream.expires_after(std::chrono::seconds(5));
  co_await bhttp::async_write(session.stream, response, kNoThrow);
  CloseGracefully(session);
}

// Reads the start of the next request, waiting up to idle_timeout. Returns false when the
// connection should end: the client closed it, it stayed idle too long, or the server stops.
asio::awaitable<bool> WaitForRequest(State& state, Session& session) {
  if (session.buffer.size() != 0) co_return true;
  if (session.stopping || state.stopping.load()) co_return false;
  session.idle = true;
  session.stream.expires_after(state.options.idle_timeout);
  auto [ec, n] =
      co_await session.stream.async_read_some(session.buffer.prepare(kFirstReadBytes), kNoThrow);
  session.idle = false;
  if (ec) co_return false;
  session.buffer.commit(n);
  co_return true;
}

// Parses a request header that is already whole in `buffer`, as it usually is after
// WaitForRequest's first read. Beast's async_read_header would parse the same bytes and then post
// its completion through the io_context, which costs more than the parse. Returns true when the
// header is done or `ec` contains a parse error, and false, with `ec` clear, when more bytes must
// be read.
bool ParseBufferedHeader(beast::flat_buffer& buffer, RequestParser& parser,
                         boost::system::error_code& ec) {
  while (buffer.size() != 0 && !parser.is_header_done()) {
    const size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) {
      ec = {};
      return false;
    }
    if (ec) return true;
  }
  return parser.is_header_done();
}

asio::awaitable<void> RunSession(std::shared_ptr<State> state, std::shared_ptr<Session> session) {
  boost::system::error_code ignored;
  session->stream.Tcp().socket().set_option(tcp::no_delay(true), ignored);
  const tcp::endpoint peer = session->stream.Tcp().socket().remote_endpoint(ignored);
  const std::string peer_address = peer.address().to_string();
  std::optional<RequestParser> parser;

  if (session->stream.IsTls()) {
    const bool secured = co_await Handshake(*state, *session);
    if (!secured) {
      session->stream.Tcp().close();
      co_return;
    }
  }

  for (;;) {
    if (!co_await WaitForRequest(*state, *session)) break;

    parser.emplace();
    parser->header_limit(static_cast<uint32_t>(state->options.max_header_bytes));
    // Handlers bound the body themselves (ServerExchange::ReadBody, the proxy's streaming).
    parser->body_limit(boost::none);
    session->stream.expires_after(state->options.header_timeout);
    boost::system::error_code ec;
    if (!ParseBufferedHeader(session->buffer, *parser, ec)) {
      auto [read_ec, n] =
          co_await bhttp::async_read_header(session->stream, session->buffer, *parser, kNoThrow);
      ec = read_ec;
    }
    if (ec == bhttp::error::header_limit) {
      co_await SendErrorAndClose(
          *session, bhttp::status::request_header_fields_too_large,
          fmt::format("request header exceeds {} bytes", state->options.max_header_bytes));
      co_return;
    }
    if (ec && IsHttpSyntaxError(ec)) {
      co_await SendErrorAndClose(*session, bhttp::status::bad_request,
                                 fmt::format("malformed request header: {}", ec.message()));
      co_return;
    }
    if (ec) {
      // Timeout, disconnect or a truncated header: nothing useful can be sent back.
      spdlog::debug("http server: connection {} closed while reading a header: {}", session->id,
                    ec.message());
      break;
    }
    if (Status framing = CheckRequestFraming(parser->get().base()); !framing.ok()) {
      co_await SendErrorAndClose(*session, bhttp::status::bad_request, framing.error().message);
      co_return;
    }

    RequestInfo info{RequestIdFor(parser->get().base()), peer, session->id, peer_address};
    session->stopping = session->stopping || state->stopping.load();
    ServerExchange exchange(session->stream, session->buffer, *parser, session->relay_buffer,
                            std::move(info), state->options.io_timeout, session->stopping);
    bool handler_failed = false;
    try {
      co_await state->handler(exchange);
    } catch (const std::exception& e) {
      handler_failed = true;
      spdlog::error("http server: handler failed on request {}: {}", exchange.info().request_id,
                    e.what());
    }
    if (!exchange.responded()) {
      if (!handler_failed) {
        spdlog::error("http server: handler sent no response to request {}",
                      exchange.info().request_id);
      }
      Response response(bhttp::status::internal_server_error, 11);
      response.keep_alive(false);
      // The connection closes after this response whether or not the write succeeds.
      (void)co_await exchange.Respond(std::move(response));
    }
    if (!exchange.keep_alive()) break;
  }
  CloseGracefully(*session);
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<State> state) {
  const std::vector<asio::io_context*>& contexts = state->options.connection_contexts;
  for (;;) {
    asio::io_context& context =
        contexts.empty() ? state->io_context : *contexts[state->next_context++ % contexts.size()];
    asio::any_io_executor executor;
    if (state->options.single_thread) {
      executor = context.get_executor();
    } else {
      executor = asio::make_strand(context);
    }
    auto [ec, socket] = co_await state->acceptor.async_accept(executor, kNoThrow);
    if (state->stopping.load() || !state->acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE and similar are transient: log, pause briefly and keep accepting.
      spdlog::warn("http server: accept on {} failed: {}", state->options.endpoint.port(),
                   ec.message());
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(kNoThrow);
      continue;
    }

    const uint64_t id = ++state->accepted;
    std::shared_ptr<asio::ssl::context> tls_context;
    if (state->options.tls) tls_context = state->options.tls->Current();
    auto session =
        std::make_shared<Session>(executor, std::move(socket), id, std::move(tls_context));
    ++state->active;
    {
      std::lock_guard lock(state->mutex);
      state->sessions.emplace(id, session);
    }
    asio::co_spawn(executor, RunSession(state, session), [state, id](std::exception_ptr error) {
      if (error) spdlog::error("http server: connection {} ended with an exception", id);
      {
        std::lock_guard lock(state->mutex);
        state->sessions.erase(id);
      }
      --state->active;
    });
  }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io_context, ServerOptions options,
                       StreamingHandler handler)
    : state_(std::make_shared<State>(io_context, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Result<tcp::endpoint> HttpServer::Start() {
  if (state_->started.exchange(true)) {
    return MakeError(ErrorCode::kFailedPrecondition, "the server was already started");
  }
  const tcp::endpoint& endpoint = state_->options.endpoint;
  tcp::acceptor& acceptor = state_->acceptor;
  boost::system::error_code ec;
  auto fail = [&](std::string_view step) {
    return MakeError(
        ErrorCode::kUnavailable,
        fmt::format("{} on {}:{} failed: {}; choose a free port or an address of "
                    "this host",
                    step, endpoint.address().to_string(), endpoint.port(), ec.message()));
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("opening the listening socket");
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (ec) return fail("binding");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listening");
  tcp::endpoint bound = acceptor.local_endpoint(ec);
  if (ec) return fail("reading the bound address");

  spdlog::info("http server: listening on {}:{}", bound.address().to_string(), bound.port());
  asio::co_spawn(state_->acceptor_strand, AcceptLoop(state_), asio::detached);
  return bound;
}

void HttpServer::Stop() {
  if (state_->stopping.exchange(true)) return;
  std::shared_ptr<State> state = state_;
  asio::post(state->acceptor_strand, [state] {
    boost::system::error_code ignored;
    state->acceptor.close(ignored);
  });

  std::lock_guard lock(state->mutex);
  for (auto& [id, weak] : state->sessions) {
    std::shared_ptr<Session> session = weak.lock();
    if (!session) continue;
    asio::post(session->executor, [session] {
      session->stopping = true;
      if (session->idle) session->stream.Tcp().cancel();
    });
  }
  if (state->started.load()) spdlog::info("http server: stopping");
}

asio::awaitable<bool> HttpServer::Drained(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // Polling keeps shutdown free of cross-thread signalling; 10 ms is short next to a drain.
  while (state_->active.load() != 0) {
    if (std::chrono::steady_clock::now() >= until) co_return false;
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(kNoThrow);
  }
  co_return true;
}

size_t HttpServer::ActiveConnections() const { return state_->active.load(); }

uint64_t HttpServer::AcceptedConnections() const { return state_->accepted.load(); }

}  // namespace credgate::http
