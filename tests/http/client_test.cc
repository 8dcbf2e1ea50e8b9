#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "http/pooled_client.h"
#include "test_support.h"

namespace credgate::http {
namespace {

using namespace testing;

asio::awaitable<Response> Echo(Request&& request, const RequestInfo&) {
  Response response(bhttp::status::ok, 11);
  response.set("x-method", request.method_string());
  response.set("x-target", request.target());
  response.body() = request.body();
  co_return response;
}

asio::awaitable<Response> Slow(Request&&, const RequestInfo&) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(2));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return Response(bhttp::status::ok, 11);
}

class ClientTest : public IoTest {
 protected:
  ClientTest() : client_(std::move(PooledHttpClient::Create({})).value()) {}

  Result<ClientResponse> Send(ClientRequest request) {
    return Run(client_->Send(std::move(request)));
  }
  Result<ClientResponse> Get(std::string url) {
    ClientRequest request;
    request.url = std::move(url);
    return Send(std::move(request));
  }

  std::unique_ptr<PooledHttpClient> client_;
};

TEST_F(ClientTest, GetReturnsStatusHeadersAndBody) {
  StartBuffered(Echo);
  auto response = Get(Url("/a/b?x=1"));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("X-Method"), "GET");
  EXPECT_EQ(response->Header("x-target"), "/a/b?x=1");
  EXPECT_EQ(response->body, "");
}

TEST_F(ClientTest, PostSendsBody) {
  StartBuffered(Echo);
  ClientRequest request;
  request.method = "POST";
  request.url = Url("/token");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "grant_type=client_credentials";
  auto response = Send(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->Header("x-method"), "POST");
  EXPECT_EQ(response->body, "grant_type=client_credentials");
}

TEST_F(ClientTest, ErrorStatusIsAResponse) {
  StartBuffered([](Request&&, const RequestInfo&) -> asio::awaitable<Response> {
    co_return Response(bhttp::status::not_found, 11);
  });
  auto response = Get(Url("/missing"));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
}

TEST_F(ClientTest, KeepAliveReusesConnection) {
  HttpServer& server = StartBuffered(Echo);
  for (int i = 0; i < 5; ++i) {
    auto response = Get(Url("/"));
    ASSERT_TRUE(response.ok()) << response.error().message;
  }
  EXPECT_EQ(server.AcceptedConnections(), 1u);
  EXPECT_EQ(client_->ConnectionsOpened(), 1u);
  EXPECT_EQ(client_->IdleConnections(), 1u);
}

TEST_F(ClientTest, TimeoutIsDeadlineExceeded) {
  StartBuffered(Slow);
  ClientRequest request;
  request.url = Url("/slow");
  request.timeout = std::chrono::milliseconds(200);
  auto response = Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kDeadlineExceeded) << response.error().message;
}

TEST_F(ClientTest, OversizedBodyIsBadGateway) {
  StartBuffered(RespondWith(std::string(2000, 'x')));
  ClientRequest request;
  request.url = Url("/big");
  request.max_response_body_bytes = 1000;
  auto response = Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kBadGateway);
}

TEST_F(ClientTest, UnreachableHostIsUnavailable) {
  auto response = Get(Url("/", ClosedPort()));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
}

TEST_F(ClientTest, MalformedUrlIsInvalidArgument) {
  for (const char* url : {"not a url", "ftp://127.0.0.1/", "http:///path", "http://u:p@h/"}) {
    auto response = Get(url);
    ASSERT_FALSE(response.ok()) << url;
    EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

TEST_F(ClientTest, HeaderWithNewlineIsInvalidArgument) {
  ClientRequest request;
  request.url = Url("/", ClosedPort());
  request.headers = {{"X-Bad", "a\r\nInjected: yes"}};
  auto response = Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument);
}

// Serves one request per connection with keep-alive, then reads the next request and closes
// without responding, as a server does when its idle timer fires just as a request arrives.
asio::awaitable<void> ServeOnceThenDrop(std::shared_ptr<tcp::acceptor> acceptor,
                                        std::shared_ptr<std::atomic<int>> accepted) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    ++*accepted;
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> request;
    auto [read_ec, n] =
        co_await bhttp::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (read_ec) continue;
    Response response(bhttp::status::ok, 11);
    response.body() = "served";
    response.prepare_payload();
    co_await bhttp::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    bhttp::request<bhttp::string_body> next;
    co_await bhttp::async_read(stream, buffer, next, asio::as_tuple(asio::use_awaitable));
    stream.socket().close();
  }
}

TEST_F(ClientTest, ClosedPooledConnectionIsRetried) {
  auto acceptor =
      std::make_shared<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto accepted = std::make_shared<std::atomic<int>>(0);
  asio::co_spawn(io_, ServeOnceThenDrop(acceptor, accepted), asio::detached);
  const std::string url = Url("/", acceptor->local_endpoint().port());

  auto first = Get(url);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = Get(url);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->body, "served");
  EXPECT_EQ(client_->ConnectionsOpened(), 2u);
  EXPECT_EQ(accepted->load(), 2);
  RunOnIo([&] { acceptor->close(); });
}

}  // namespace
}  // namespace credgate::http
