// Shared test scaffolding: an io_context running on two background threads, coroutine runners,
// a blocking raw-socket client for byte-exact requests, a connected TimedSocket pair and
// throwaway TLS certificates.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/buffered.h"
#include "http/server.h"
#include "http/timed_socket.h"

namespace credgate::http::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

class IoTest : public ::testing::Test {
 protected:
  IoTest() : guard_(asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoTest() override { StopIo(); }

  // Stops the servers and the io_context threads. A fixture whose members are used by server
  // handlers calls it in its own destructor, because those members are destroyed before
  // ~IoTest() runs, while a handler may still be finishing a request. Idempotent.
  void StopIo() {
    for (auto& server : servers_) server->Stop();
    servers_.clear();
    guard_.reset();
    io_.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

  // Runs `task` on the io_context and waits up to 30 s for its result.
  template <typename T>
  T Run(asio::awaitable<T> task) {
    auto future = asio::co_spawn(io_, Wrap(std::move(task)), asio::use_future);
    if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "coroutine did not finish within 30 s";
      std::abort();
    }
    return std::move(*future.get());
  }

  // co_spawn with use_future needs a default-constructible result, which Result<T> is not.
  template <typename T>
  static asio::awaitable<std::optional<T>> Wrap(asio::awaitable<T> task) {
    co_return co_await std::move(task);
  }

  // Runs `f` on the io_context and waits for it to finish.
  void RunOnIo(std::function<void()> f) {
    std::promise<void> done;
    asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  // Starts a server on 127.0.0.1 with a free port and returns it; the fixture stops it.
  HttpServer& StartServer(StreamingHandler handler, ServerOptions options = {}) {
    options.endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
    servers_.push_back(std::make_unique<HttpServer>(io_, options, std::move(handler)));
    auto bound = servers_.back()->Start();
    EXPECT_TRUE(bound.ok());
    last_port_ = bound.ok() ? bound->port() : 0;
    return *servers_.back();
  }
  HttpServer& StartBuffered(BufferedHandler handler, ServerOptions options = {},
                            size_t max_body = kDefaultMaxBodyBytes) {
    return StartServer(MakeBufferedHandler(std::move(handler), max_body), options);
  }

  std::string Url(std::string_view path, uint16_t port = 0) const {
    return "http://127.0.0.1:" + std::to_string(port ? port : last_port_) + std::string(path);
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<HttpServer>> servers_;
  uint16_t last_port_ = 0;
};

// Returns a port on 127.0.0.1 that nothing listens on (bound once, then released).
uint16_t ClosedPort();

// Connects a TimedSocket on `io` to a listener on 127.0.0.1 and returns it, with the accepted
// end in `peer`, for tests of one connection's reads and writes.
TimedSocket ConnectedPair(asio::io_context& io, tcp::socket& peer);

// Sends `bytes` on a new blocking connection to 127.0.0.1:`port`, optionally waits `pause`
// and sends `more`, then returns everything received until the peer closes or `timeout` passes.
struct RawResult {
  std::string received;
  bool closed_by_peer = false;
};
RawResult RawExchange(uint16_t port, std::string_view bytes,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5),
                      std::string_view more = {},
                      std::chrono::milliseconds pause = std::chrono::milliseconds(0));

// A self-signed certificate and its key, both PEM, valid for the subject alternative names in
// `san` (OpenSSL syntax, for example "DNS:localhost,IP:127.0.0.1").
struct TestCertificate {
  std::string certificate_pem;
  std::string key_pem;
};
TestCertificate MakeSelfSignedCertificate(const std::string& san);

// Writes `text` to a new file under the test temporary directory and returns its path.
std::string WriteTempFile(const std::string& name, const std::string& text);

// Returns a buffered handler that responds 200 with `body`.
BufferedHandler RespondWith(std::string body);

}  // namespace credgate::http::testing
