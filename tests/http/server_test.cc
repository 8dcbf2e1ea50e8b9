#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "http/headers.h"
#include "test_support.h"

namespace credgate::http {
namespace {

using namespace testing;

asio::awaitable<Response> EchoBody(Request&& request, const RequestInfo& info) {
  Response response(bhttp::status::ok, 11);
  response.set("x-seen-request-id", info.request_id);
  response.body() = request.body();
  co_return response;
}

class ServerTest : public IoTest {
 protected:
  void StartEcho(ServerOptions options = {}, size_t max_body = kDefaultMaxBodyBytes) {
    StartBuffered(EchoBody, options, max_body);
  }
  RawResult Raw(std::string_view bytes) { return RawExchange(last_port_, bytes); }
};

TEST_F(ServerTest, OversizedHeaderIs431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  StartEcho(options);
  auto result = Raw("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(2000, 'x') + "\r\n\r\n");
  EXPECT_TRUE(result.received.starts_with("HTTP/1.1 431")) << result.received;
  EXPECT_TRUE(result.closed_by_peer);
}

TEST_F(ServerTest, BodyOverLimitIs413) {
  StartEcho({}, 16);
  auto result =
      Raw("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n" + std::string(17, 'b'));
  EXPECT_TRUE(result.received.starts_with("HTTP/1.1 413")) << result.received;
}

TEST_F(ServerTest, ChunkedBodyOverLimitIs413) {
  StartEcho({}, 16);
  auto result =
      Raw("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
          "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_TRUE(result.received.starts_with("HTTP/1.1 413")) << result.received;
}

TEST_F(ServerTest, SmugglingShapesAre400) {
  StartEcho();
  const std::string cases[] = {
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  };
  for (const std::string& request : cases) {
    auto result = Raw(request);
    EXPECT_TRUE(result.received.starts_with("HTTP/1.1 400")) << request << "\n" << result.received;
    EXPECT_TRUE(result.closed_by_peer) << request;
  }
}

TEST_F(ServerTest, SlowHeaderIsClosed) {
  ServerOptions options;
  options.header_timeout = std::chrono::milliseconds(200);
  StartEcho(options);
  const auto start = std::chrono::steady_clock::now();
  auto result = Raw("GET / HTTP/1.1\r\nHost: a\r\n");
  EXPECT_TRUE(result.closed_by_peer);
  EXPECT_EQ(result.received, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(ServerTest, IdleKeepAliveIsClosed) {
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  StartEcho(options);
  auto result = Raw("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(result.received.starts_with("HTTP/1.1 200")) << result.received;
  EXPECT_TRUE(result.closed_by_peer);
}

TEST_F(ServerTest, KeepAliveServesSequentialRequests) {
  StartEcho();
  auto result =
      Raw("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\none"
          "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\ntwo");
  EXPECT_NE(result.received.find("\r\n\r\none"), std::string::npos) << result.received;
  EXPECT_NE(result.received.find("\r\n\r\ntwo"), std::string::npos) << result.received;
}

TEST_F(ServerTest, HeaderSplitAcrossReads) {
  StartEcho();
  auto result =
      RawExchange(last_port_, "POST / HTTP/1.1\r\nHost: a\r\nCont", std::chrono::seconds(5),
                  "ent-Length: 3\r\nConnection: close\r\n\r\nabc", std::chrono::milliseconds(100));
  EXPECT_TRUE(result.received.starts_with("HTTP/1.1 200")) << result.received;
  EXPECT_TRUE(result.received.ends_with("\r\n\r\nabc")) << result.received;
}

TEST_F(ServerTest, RequestIdFromHeaderWhenSafe) {
  StartEcho();
  auto safe =
      Raw("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-123\r\nConnection: close\r\n\r\n");
  EXPECT_NE(safe.received.find("x-seen-request-id: abc-123"), std::string::npos) << safe.received;
  auto unsafe =
      Raw("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: a b<c>\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(unsafe.received.find("a b<c>"), std::string::npos) << unsafe.received;
  EXPECT_NE(unsafe.received.find("x-seen-request-id: "), std::string::npos);
}

TEST_F(ServerTest, ExpectContinueGetsInterimResponse) {
  StartEcho();
  auto result = RawExchange(last_port_,
                            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
                            "Expect: 100-continue\r\nConnection: close\r\n\r\n",
                            std::chrono::seconds(5), "hi", std::chrono::milliseconds(50));
  EXPECT_TRUE(result.received.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200"))
      << result.received;
}

TEST_F(ServerTest, HandlerWithoutResponseGets500) {
  StartServer([](ServerExchange&) -> asio::awaitable<void> { co_return; });
  auto result = Raw("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(result.received.starts_with("HTTP/1.1 500")) << result.received;
}

TEST_F(ServerTest, StartOnBusyPortFails) {
  StartEcho();
  ServerOptions options;
  options.endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), last_port_);
  HttpServer second(io_, options, MakeBufferedHandler(EchoBody));
  auto bound = second.Start();
  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.error().code, ErrorCode::kUnavailable);
}

TEST_F(ServerTest, ListensOnIpv6Loopback) {
  ServerOptions options;
  options.endpoint = tcp::endpoint(asio::ip::make_address("::1"), 0);
  HttpServer server(io_, options, MakeBufferedHandler(EchoBody));
  auto bound = server.Start();
  if (!bound.ok()) GTEST_SKIP() << "no IPv6 loopback: " << bound.error().message;
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(*bound);
  std::string request = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  asio::write(socket, asio::buffer(request));
  char reply[12] = {};
  asio::read(socket, asio::buffer(reply));
  EXPECT_EQ(std::string_view(reply, sizeof(reply)), "HTTP/1.1 200");
  server.Stop();
}

TEST_F(ServerTest, ConnectionsTakeContextsInTurn) {
  asio::io_context first;
  asio::io_context second;
  auto first_guard = asio::make_work_guard(first);
  auto second_guard = asio::make_work_guard(second);
  std::thread first_thread([&] { first.run(); });
  std::thread second_thread([&] { second.run(); });

  ServerOptions options;
  options.single_thread = true;
  options.connection_contexts = {&first, &second};
  // Each response names the io_context that ran its connection.
  StartBuffered(
      [&](Request&&, const RequestInfo&) -> asio::awaitable<Response> {
        auto executor = co_await asio::this_coro::executor;
        const auto* context_executor = executor.target<asio::io_context::executor_type>();
        Response response(bhttp::status::ok, 11);
        response.body() = context_executor == nullptr              ? "other"
                          : &context_executor->context() == &first ? "first"
                          : &context_executor->context() == &second ? "second"
                                                                    : "other";
        co_return response;
      },
      options);

  std::vector<std::string> ran_on;
  for (int i = 0; i < 4; ++i) {
    RawResult result = Raw("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    const size_t body = result.received.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos) << result.received;
    ran_on.push_back(result.received.substr(body + 4));
  }
  EXPECT_EQ(ran_on, (std::vector<std::string>{"first", "second", "first", "second"}));

  StopIo();
  // The listener's last accept may still wait in io_'s queue with a socket made for `first` or
  // `second`. Destroying io_ after them would free that socket through their destroyed services,
  // so the accept completes here, while both contexts exist.
  io_.restart();
  io_.poll();
  first_guard.reset();
  second_guard.reset();
  first_thread.join();
  second_thread.join();
}

struct FramingCase {
  std::string transfer_encoding;
  bool with_content_length;
  bool ok;
};

TEST(CheckRequestFraming, Table) {
  const FramingCase cases[] = {
      {"", true, true},           {"chunked", false, true}, {"Chunked", false, true},
      {"chunked", true, false},   {"gzip", false, false},   {"gzip, chunked", false, false},
      {"identity", false, false},
  };
  for (const FramingCase& c : cases) {
    bhttp::request_header<> header;
    header.version(11);
    if (!c.transfer_encoding.empty())
      header.set(bhttp::field::transfer_encoding, c.transfer_encoding);
    if (c.with_content_length) header.set(bhttp::field::content_length, "3");
    EXPECT_EQ(CheckRequestFraming(header).ok(), c.ok) << c.transfer_encoding;
  }
}

TEST(RemoveHopByHopFields, RemovesListedAndStandardFields) {
  bhttp::fields fields;
  fields.set(bhttp::field::connection, "keep-alive, X-Private");
  fields.set("X-Private", "1");
  fields.set(bhttp::field::keep_alive, "timeout=5");
  fields.set(bhttp::field::te, "trailers");
  fields.set(bhttp::field::proxy_authorization, "Basic x");
  fields.set(bhttp::field::upgrade, "websocket");
  fields.set("X-Kept", "1");
  RemoveHopByHopFields(fields);
  EXPECT_EQ(fields.count("X-Private"), 0u);
  EXPECT_EQ(fields.count(bhttp::field::connection), 0u);
  EXPECT_EQ(fields.count(bhttp::field::keep_alive), 0u);
  EXPECT_EQ(fields.count(bhttp::field::te), 0u);
  EXPECT_EQ(fields.count(bhttp::field::proxy_authorization), 0u);
  EXPECT_EQ(fields.count(bhttp::field::upgrade), 0u);
  EXPECT_EQ(fields.count("X-Kept"), 1u);
}

TEST(RemoveHopByHopFields, RemovesNamesFromEveryConnectionField) {
  bhttp::fields fields;
  fields.insert(bhttp::field::connection, "x-first");
  fields.insert("X-First", "1");
  fields.insert("x-first", "2");
  fields.insert("X-Second", "3");
  fields.insert(bhttp::field::connection, "X-SECOND, connection");
  fields.insert(bhttp::field::transfer_encoding, "chunked");
  fields.insert(bhttp::field::accept, "*/*");
  RemoveHopByHopFields(fields);
  EXPECT_EQ(fields.count("X-First"), 0u);
  EXPECT_EQ(fields.count("X-Second"), 0u);
  EXPECT_EQ(fields.count(bhttp::field::connection), 0u);
  EXPECT_EQ(fields.count(bhttp::field::transfer_encoding), 0u);
  EXPECT_EQ(fields.count(bhttp::field::accept), 1u);
}

TEST(IsHopByHopField, MatchesEachStandardField) {
  const bhttp::field hop_by_hop[] = {
      bhttp::field::connection,
      bhttp::field::keep_alive,
      bhttp::field::proxy_connection,
      bhttp::field::te,
      bhttp::field::trailer,
      bhttp::field::transfer_encoding,
      bhttp::field::upgrade,
      bhttp::field::proxy_authenticate,
      bhttp::field::proxy_authorization,
  };
  for (bhttp::field name : hop_by_hop) {
    EXPECT_TRUE(IsHopByHopField(name)) << bhttp::to_string(name);
  }
  const bhttp::field end_to_end[] = {
      bhttp::field::unknown,          bhttp::field::accept,         bhttp::field::authorization,
      bhttp::field::content_type,     bhttp::field::content_length, bhttp::field::host,
      bhttp::field::www_authenticate,
  };
  for (bhttp::field name : end_to_end) {
    EXPECT_FALSE(IsHopByHopField(name)) << bhttp::to_string(name);
  }
}

TEST(RemoveHopByHopFields, RemovesStandardFieldsWithoutConnection) {
  bhttp::fields fields;
  fields.insert(bhttp::field::accept, "*/*");
  fields.insert(bhttp::field::te, "trailers");
  fields.insert(bhttp::field::upgrade, "h2c");
  RemoveHopByHopFields(fields);
  EXPECT_EQ(fields.count(bhttp::field::te), 0u);
  EXPECT_EQ(fields.count(bhttp::field::upgrade), 0u);
  EXPECT_EQ(fields.count(bhttp::field::accept), 1u);
}

TEST(RemoveHopByHopFields, KeepsFieldOrder) {
  bhttp::fields fields;
  fields.insert("X-B", "1");
  fields.insert(bhttp::field::connection, "close");
  fields.insert("X-A", "2");
  fields.insert("X-C", "3");
  RemoveHopByHopFields(fields);
  std::vector<std::string> values;
  for (const auto& field : fields) values.emplace_back(field.value());
  EXPECT_EQ(values, (std::vector<std::string>{"1", "2", "3"}));
}

TEST(RemoveHopByHopFields, KeepsEndToEndFields) {
  bhttp::fields fields;
  fields.insert(bhttp::field::host, "example.com");
  fields.insert(bhttp::field::authorization, "Bearer x");
  fields.insert("X-Request-Id", "abc");
  RemoveHopByHopFields(fields);
  EXPECT_EQ(std::distance(fields.begin(), fields.end()), 3);
}

}  // namespace
}  // namespace credgate::http
