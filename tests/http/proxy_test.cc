#include "http/proxy.h"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "http/pooled_client.h"
#include "test_support.h"

namespace credgate::http {
namespace {

using namespace testing;

// Backend handler: reports what arrived so the tests can check what the proxy forwarded.
asio::awaitable<Response> Inspect(Request&& request, const RequestInfo&) {
  Response response(bhttp::status::ok, 11);
  std::string names;
  for (const auto& field : request) names += std::string(field.name_string()) + ";";
  response.set("x-received-fields", names);
  response.set("x-received-host", request[bhttp::field::host]);
  response.set("x-received-forwarded-for", request["x-forwarded-for"]);
  response.set("x-received-target", request.target());
  response.set("x-received-bytes", std::to_string(request.body().size()));
  std::string values;
  for (const auto& field : request) values += std::string(field.value()) + ";";
  response.set("x-received-values", values);
  response.set("x-internal", "secret-topology");
  response.set(bhttp::field::proxy_authenticate, "Basic");
  response.body() = request.body().size() <= 64 ? request.body() : "large";
  co_return response;
}

asio::awaitable<Response> SlowInspect(Request&& request, const RequestInfo& info) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(400));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return co_await Inspect(std::move(request), info);
}

// Backend that sends a fixed two-chunk response with Transfer-Encoding: chunked.
asio::awaitable<void> ChunkedBackend(ServerExchange& exchange) {
  exchange.MarkResponded(true);
  static constexpr std::string_view kResponse =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  co_await asio::async_write(exchange.stream(), asio::buffer(kResponse.data(), kResponse.size()),
                             asio::as_tuple(asio::use_awaitable));
}

// Backend that responds to one request and then closes the connection without saying so in a
// Connection header, as a backend does whose idle timeout ran out just after it responded.
asio::awaitable<void> RespondThenCloseBackend(ServerExchange& exchange) {
  exchange.MarkResponded(false);
  static constexpr std::string_view kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  co_await asio::async_write(exchange.stream(), asio::buffer(kResponse.data(), kResponse.size()),
                             asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  exchange.stream().Tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

// Backend whose response has a reason phrase of its own and a field with no fixed name.
asio::awaitable<void> CustomReasonBackend(ServerExchange& exchange) {
  exchange.MarkResponded(true);
  static constexpr std::string_view kResponse =
      "HTTP/1.1 299 Fine Thing\r\nX-Note: kept as sent\r\nContent-Length: 2\r\n\r\nhi";
  co_await asio::async_write(exchange.stream(), asio::buffer(kResponse.data(), kResponse.size()),
                             asio::as_tuple(asio::use_awaitable));
}

// Backend that sends an interim 100 response, then the final header in two writes.
asio::awaitable<void> SplitHeaderBackend(ServerExchange& exchange) {
  exchange.MarkResponded(true);
  static constexpr std::string_view kParts[] = {
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-",
      "Length: 5\r\n\r\nsplit",
  };
  for (std::string_view part : kParts) {
    co_await asio::async_write(exchange.stream(), asio::buffer(part.data(), part.size()),
                               asio::as_tuple(asio::use_awaitable));
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Backend that closes the connection in the middle of its response header.
asio::awaitable<void> TruncatedHeaderBackend(ServerExchange& exchange) {
  exchange.MarkResponded(false);
  static constexpr std::string_view kResponse = "HTTP/1.1 200 OK\r\nContent-Le";
  co_await asio::async_write(exchange.stream(), asio::buffer(kResponse.data(), kResponse.size()),
                             asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  exchange.stream().Tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

class ProxyTest : public IoTest {
 protected:
  ProxyTest()
      : pool_(std::move(UpstreamPool::Create({})).value()),
        client_(std::move(PooledHttpClient::Create({})).value()) {}
  // The proxy handler may still be returning the backend connection to pool_ after the client
  // got the whole response, so the handlers stop before pool_ is destroyed.
  ~ProxyTest() override { StopIo(); }

  // Starts the front server, which forwards every request to `backend_port` and then lets
  // `edit` change the response header, as an outbound policy would.
  // With `as_is` the front server forwards with ProxyRequestAsIs(), dropping X-Drop, and
  // otherwise with ProxyRequest() and a copy of the header.
  void StartProxy(uint16_t backend_port, std::function<void(ResponseHeader&)> edit = nullptr,
                  std::optional<std::string> replacement_body = std::nullopt,
                  bool as_is = false) {
    upstream_.origin.host = "127.0.0.1";
    upstream_.origin.port = backend_port;
    upstream_.response_timeout = std::chrono::seconds(5);
    StartServer([this, edit, replacement_body,
                 as_is](ServerExchange& exchange) -> asio::awaitable<void> {
      std::string target = ComposeTarget("/base", "", exchange.header().target(), "");
      RequestHeader header = exchange.header();
      header.target(target);
      header.erase("x-drop");
      const std::string* body = replacement_body ? &*replacement_body : nullptr;
      Result<UpstreamResponse> response = UpstreamResponse();
      if (as_is) {
        response = co_await pool_->ProxyRequestAsIs(exchange, upstream_, std::move(target),
                                                    "x-drop");
      } else {
        response = co_await pool_->ProxyRequest(exchange, upstream_, std::move(header), body);
      }
      if (!response.ok()) {
        last_error_ = response.error();
        Response reply(static_cast<bhttp::status>(HttpStatusFor(response.error().code)), 11);
        reply.body() = "backend unavailable";
        co_await exchange.Respond(std::move(reply));
        co_return;
      }
      ResponseHeader out = response->header();
      if (edit) edit(out);
      co_await pool_->RelayResponse(exchange, std::move(*response), std::move(out));
    });
    proxy_port_ = last_port_;
  }

  Result<ClientResponse> Send(std::string method, std::string path, std::string body = {},
                              HeaderList headers = {}) {
    ClientRequest request;
    request.method = std::move(method);
    request.url = Url(path, proxy_port_);
    request.body = std::move(body);
    request.headers = std::move(headers);
    request.max_response_body_bytes = 8 << 20;
    return Run(client_->Send(std::move(request)));
  }

  std::unique_ptr<UpstreamPool> pool_;
  std::unique_ptr<PooledHttpClient> client_;
  Upstream upstream_;
  uint16_t proxy_port_ = 0;
  std::optional<Error> last_error_;
};

TEST_F(ProxyTest, GetIsForwarded) {
  StartBuffered(Inspect);
  const uint16_t backend = last_port_;
  StartProxy(backend);
  auto response = Send("GET", "/users/1?x=2");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("x-received-target"), "/base/users/1?x=2");
  EXPECT_EQ(response->Header("x-received-host"), "127.0.0.1:" + std::to_string(backend));
  EXPECT_EQ(response->Header("x-received-forwarded-for"), "127.0.0.1");
}

TEST_F(ProxyTest, PostWithContentLength) {
  StartBuffered(Inspect);
  StartProxy(last_port_);
  auto response = Send("POST", "/p", "payload");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "payload");
}

TEST_F(ProxyTest, ReplacementBodyIsSent) {
  StartBuffered(Inspect);
  StartProxy(last_port_, nullptr, std::string("replaced body"));
  auto response = Send("POST", "/p", "the caller's payload");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "replaced body");
  EXPECT_EQ(response->Header("x-received-bytes"), "13");
}

TEST_F(ProxyTest, ReplacementBodyOnGet) {
  StartBuffered(Inspect);
  StartProxy(last_port_, nullptr, std::string("added"));
  auto response = Send("GET", "/g");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "added");
}

TEST_F(ProxyTest, LargeBodyIsStreamed) {
  StartBuffered(Inspect, {}, 8 << 20);
  StartProxy(last_port_);
  auto response = Send("POST", "/upload", std::string(5 << 20, 'z'));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->Header("x-received-bytes"), std::to_string(5 << 20));
}

TEST_F(ProxyTest, ChunkedRequestBody) {
  StartBuffered(Inspect);
  StartProxy(last_port_);
  auto result = RawExchange(proxy_port_,
                            "POST /c HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n"
                            "Connection: close\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
  EXPECT_NE(result.received.find("x-received-bytes: 7"), std::string::npos) << result.received;
  EXPECT_NE(result.received.find("abcdefg"), std::string::npos) << result.received;
}

TEST_F(ProxyTest, ResponseHeaderIsRelayedByteForByte) {
  StartServer(CustomReasonBackend);
  StartProxy(last_port_);
  auto result = RawExchange(proxy_port_, "GET /r HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
  const std::string& text = result.received;
  EXPECT_EQ(text.rfind("HTTP/1.1 299 Fine Thing\r\n", 0), 0u) << text;
  EXPECT_NE(text.find("\r\nX-Note: kept as sent\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\nContent-Length: 2\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.size() - 6), "\r\n\r\nhi") << text;
}

TEST_F(ProxyTest, Http10ClientGetsHttp10StatusLine) {
  StartServer(CustomReasonBackend);
  StartProxy(last_port_);
  auto result = RawExchange(proxy_port_, "GET /r HTTP/1.0\r\nHost: gw\r\n\r\n");
  EXPECT_EQ(result.received.rfind("HTTP/1.0 299 Fine Thing\r\n", 0), 0u) << result.received;
  EXPECT_TRUE(result.closed_by_peer);
}

TEST_F(ProxyTest, ChunkedResponseStaysChunked) {
  StartServer(ChunkedBackend);
  StartProxy(last_port_);
  auto response = Send("GET", "/stream");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "hello world");
  EXPECT_EQ(response->Header("transfer-encoding"), "chunked");
}

TEST_F(ProxyTest, HopByHopFieldsAreRemoved) {
  StartBuffered(Inspect);
  StartProxy(last_port_);
  auto response = Send("GET", "/h", "",
                       {{"Connection", "keep-alive, X-Hop"},
                        {"X-Hop", "1"},
                        {"Keep-Alive", "timeout=5"},
                        {"TE", "trailers"},
                        {"Proxy-Authorization", "Basic abc"},
                        {"X-End-To-End", "1"}});
  ASSERT_TRUE(response.ok()) << response.error().message;
  const std::string fields(response->Header("x-received-fields"));
  for (const char* name : {"X-Hop", "Keep-Alive", "TE", "Proxy-Authorization", "Connection"}) {
    EXPECT_EQ(fields.find(std::string(name) + ";"), std::string::npos) << name << " in " << fields;
  }
  EXPECT_NE(fields.find("X-End-To-End;"), std::string::npos) << fields;
  EXPECT_EQ(response->Header("proxy-authenticate"), "");
}

TEST_F(ProxyTest, AsIsSendsSameHeaderAsCopy) {
  StartBuffered(Inspect);
  const uint16_t backend = last_port_;
  const HeaderList headers = {{"Connection", "keep-alive, X-Hop"},
                              {"X-Hop", "1"},
                              {"TE", "trailers"},
                              {"X-Forwarded-For", "10.0.0.1"},
                              {"X-Forwarded-Proto", "https"},
                              {"X-Forwarded-Host", "outer.example"},
                              {"X-Drop", "1"},
                              {"Expect", "100-continue"},
                              {"Accept", "*/*"},
                              {"X-End-To-End", "1"}};
  StartProxy(backend);
  const std::string copied_host = "127.0.0.1:" + std::to_string(proxy_port_);
  auto copied = Send("GET", "/a?b=c", "", headers);
  StartProxy(backend, nullptr, std::nullopt, /*as_is=*/true);
  const std::string as_is_host = "127.0.0.1:" + std::to_string(proxy_port_);
  auto as_is = Send("GET", "/a?b=c", "", headers);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  ASSERT_TRUE(as_is.ok()) << as_is.error().message;

  for (const char* name : {"x-received-fields", "x-received-host", "x-received-forwarded-for",
                           "x-received-target"}) {
    EXPECT_EQ(as_is->Header(name), copied->Header(name)) << name;
  }
  // X-Forwarded-Host carries each front server's own address.
  std::string expected_values(copied->Header("x-received-values"));
  const size_t host_at = expected_values.find(copied_host);
  ASSERT_NE(host_at, std::string::npos) << expected_values;
  expected_values.replace(host_at, copied_host.size(), as_is_host);
  EXPECT_EQ(as_is->Header("x-received-values"), expected_values);
  EXPECT_EQ(as_is->Header("x-received-fields"),
            "Accept;X-End-To-End;Host;x-forwarded-for;x-forwarded-proto;x-forwarded-host;");
  EXPECT_EQ(as_is->Header("x-received-forwarded-for"), "10.0.0.1, 127.0.0.1");
  EXPECT_EQ(as_is->Header("x-received-fields").find("X-Drop"), std::string::npos);
}

// A request with a body goes through PrepareRequestHeader(), which edits a copy of the header;
// a request without one is written from the header. Both send the fields in the same order.
TEST_F(ProxyTest, FieldOrderWithAndWithoutBody) {
  StartBuffered(Inspect);
  StartProxy(last_port_);
  const HeaderList headers = {{"X-Forwarded-Proto", "https"}, {"X-End-To-End", "1"}};
  auto get = Send("GET", "/g", "", headers);
  auto post = Send("POST", "/p", "body", headers);
  ASSERT_TRUE(get.ok()) << get.error().message;
  ASSERT_TRUE(post.ok()) << post.error().message;
  const std::string_view proxy_fields = "Host;x-forwarded-for;x-forwarded-proto;x-forwarded-host;";
  EXPECT_EQ(get->Header("x-received-fields"), "X-End-To-End;" + std::string(proxy_fields));
  EXPECT_EQ(post->Header("x-received-fields"),
            "X-End-To-End;" + std::string(proxy_fields) + "Content-Length;");
}

TEST_F(ProxyTest, AsIsWithBodyIsForwarded) {
  StartBuffered(Inspect);
  StartProxy(last_port_, nullptr, std::nullopt, /*as_is=*/true);
  auto response = Send("POST", "/p", "hello", {{"X-Drop", "1"}});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->Header("x-received-bytes"), "5");
  EXPECT_EQ(response->Header("x-received-target"), "/base/p");
  EXPECT_EQ(response->Header("x-received-fields").find("X-Drop"), std::string::npos);
}

TEST_F(ProxyTest, AsIsHeadRequestHasNoBody) {
  StartBuffered(Inspect);
  StartProxy(last_port_, nullptr, std::nullopt, /*as_is=*/true);
  auto head = Send("HEAD", "/h");
  ASSERT_TRUE(head.ok()) << head.error().message;
  auto get = Send("GET", "/h");
  ASSERT_TRUE(get.ok()) << get.error().message;
  EXPECT_EQ(get->Header("x-received-target"), "/base/h");
}

TEST_F(ProxyTest, ResponseHeaderCanChangeBetweenSteps) {
  StartBuffered(Inspect);
  StartProxy(last_port_, [](ResponseHeader& header) {
    header.erase("x-internal");
    header.set("x-policy", "applied");
  });
  auto response = Send("GET", "/m");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->Header("x-policy"), "applied");
  EXPECT_EQ(response->Header("x-internal"), "");
}

TEST_F(ProxyTest, BackendConnectionIsReused) {
  StartBuffered(Inspect);
  HttpServer& backend = *servers_.back();
  StartProxy(last_port_);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Send("GET", "/r").ok());
  EXPECT_EQ(backend.AcceptedConnections(), 1u);
  EXPECT_EQ(pool_->ConnectionsOpened(), 1u);
}

TEST_F(ProxyTest, ClosedPooledConnectionIsRetried) {
  // Released moments ago, the closed connection is reused without the liveness probe, so the
  // request fails on it before any response byte and goes out again on a new connection.
  StartServer(RespondThenCloseBackend);
  StartProxy(last_port_);
  for (int i = 0; i < 3; ++i) {
    auto response = Send("GET", "/r");
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "ok");
  }
  EXPECT_EQ(pool_->ConnectionsOpened(), 3u);
}

TEST_F(ProxyTest, SplitResponseHeaderIsRead) {
  StartServer(SplitHeaderBackend);
  StartProxy(last_port_);
  auto response = Send("GET", "/split");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "split");
}

TEST_F(ProxyTest, TruncatedResponseHeaderIsUnavailable) {
  StartServer(TruncatedHeaderBackend);
  StartProxy(last_port_);
  auto response = Send("GET", "/truncated");
  ASSERT_TRUE(response.ok()) << response.error().message;
  ASSERT_TRUE(last_error_.has_value());
  EXPECT_EQ(last_error_->code, ErrorCode::kUnavailable);
  EXPECT_NE(last_error_->message.find("partial message"), std::string::npos)
      << last_error_->message;
}

TEST_F(ProxyTest, BackendDownIsUnavailable) {
  StartProxy(ClosedPort());
  auto response = Send("GET", "/down");
  ASSERT_TRUE(response.ok()) << response.error().message;
  ASSERT_TRUE(last_error_.has_value());
  EXPECT_EQ(last_error_->code, ErrorCode::kUnavailable);
  EXPECT_EQ(response->status, HttpStatusFor(ErrorCode::kUnavailable));
  EXPECT_EQ(response->body.find("127.0.0.1"), std::string::npos) << response->body;
}

TEST_F(ProxyTest, SlowBackendIsDeadlineExceeded) {
  StartBuffered(SlowInspect);
  StartProxy(last_port_);
  upstream_.response_timeout = std::chrono::milliseconds(100);
  // StartProxy set a longer timeout, so this test changes it after StartProxy.
  auto response = Send("GET", "/slow");
  ASSERT_TRUE(response.ok()) << response.error().message;
  ASSERT_TRUE(last_error_.has_value());
  EXPECT_EQ(last_error_->code, ErrorCode::kDeadlineExceeded);
}

TEST_F(ProxyTest, GracefulStopFinishesInFlightRequest) {
  StartBuffered(SlowInspect);
  StartProxy(last_port_);
  HttpServer& front = *servers_.back();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    front.Stop();
  });
  auto response = Send("GET", "/inflight");
  stopper.join();
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(Run(front.Drained(std::chrono::seconds(2))));
  auto refused = Send("GET", "/after");
  EXPECT_FALSE(refused.ok());
}

}  // namespace
}  // namespace credgate::http
