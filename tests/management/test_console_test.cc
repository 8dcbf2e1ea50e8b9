#include "management/test_console.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <optional>

namespace credgate::management {
namespace {

namespace json = boost::json;

// Plays the gateway: records the request, claims its trace by the trace header and adds one
// step, then returns `response`.
class FakeGateway final : public http::HttpClient {
 public:
  explicit FakeGateway(policy::TraceRegistry& traces) : traces_(traces) {}

  boost::asio::awaitable<Result<http::ClientResponse>> Send(http::ClientRequest request) override {
    sent = request;
    for (const auto& [name, value] : request.headers) {
      if (name != policy::kTraceHeader) continue;
      if (auto trace = traces_.Claim(value)) {
        trace->Add(policy::TraceStep{"inbound", "api", "set-header", "", "set-header[1]",
                                     "completed", "set header 'x-a'"});
      }
    }
    co_return response;
  }

  std::optional<http::ClientRequest> sent;
  Result<http::ClientResponse> response =
      http::ClientResponse{200, {{"Content-Type", "application/json"}}, R"({"user":"alice"})"};

 private:
  policy::TraceRegistry& traces_;
};

class TestConsoleTest : public ::testing::Test {
 protected:
  TestConsoleTest() {
    auto api = std::make_shared<runtime::ApiEntry>();
    api->resource.id = "backend";
    api->resource.path = "backend";
    snapshot_.apis["backend"] = api;
  }

  Result<json::value> Post(const std::string& body, const std::string& path = "/apis/backend/test",
                           const std::string& method = "POST") {
    boost::asio::io_context io;
    std::optional<Result<json::value>> result;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          result = co_await console_.Handle(snapshot_, method, path, body);
        },
        boost::asio::detached);
    io.run();
    return result.value_or(MakeError(ErrorCode::kInternal, "the call did not finish"));
  }

  std::string SentHeader(std::string_view name) {
    for (const auto& [header, value] : gateway_.sent->headers) {
      if (header == name) return value;
    }
    return "<absent>";
  }

  OpenSslRandom random_;
  policy::TraceRegistry traces_{random_};
  FakeGateway gateway_{traces_};
  TestConsole console_{gateway_, traces_, "http://127.0.0.1:8080"};
  runtime::Snapshot snapshot_;
};

TEST_F(TestConsoleTest, PathMatchesApiTest) {
  EXPECT_TRUE(IsTestConsolePath("/apis/backend/test"));
  EXPECT_FALSE(IsTestConsolePath("/apis/backend"));
  EXPECT_FALSE(IsTestConsolePath("/apis//test"));
  EXPECT_FALSE(IsTestConsolePath("/apis/a/b/test"));
  EXPECT_FALSE(IsTestConsolePath("/apis/backend/operations/test"));
}

TEST_F(TestConsoleTest, SendsThroughGateway) {
  auto result = Post(R"({"method":"GET","path":"/whoami?via=console","callerToken":"caller-jwt",
                         "headers":[["Accept","application/json"]]})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_TRUE(gateway_.sent.has_value());
  EXPECT_EQ(gateway_.sent->method, "GET");
  EXPECT_EQ(gateway_.sent->url, "http://127.0.0.1:8080/backend/whoami?via=console");
  EXPECT_EQ(SentHeader("Authorization"), "Bearer caller-jwt");
  EXPECT_EQ(SentHeader("Accept"), "application/json");
  EXPECT_NE(SentHeader(std::string(policy::kTraceHeader)), "<absent>");
}

TEST_F(TestConsoleTest, ReturnsResponseAndTrace) {
  auto result = Post(R"({"method":"GET","path":"/whoami"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const json::object& out = result->as_object();
  EXPECT_EQ(out.at("response").at("status").as_int64(), 200);
  EXPECT_EQ(out.at("response").at("body").as_string(), R"({"user":"alice"})");
  EXPECT_EQ(out.at("response").at("headers").as_array().size(), 1u);
  ASSERT_EQ(out.at("trace").as_array().size(), 1u);
  EXPECT_EQ(out.at("trace").at(0).at("detail").as_string(), "set header 'x-a'");
  EXPECT_EQ(console_.counters().answered.load(), 1u);
}

TEST_F(TestConsoleTest, ResponseOmitsCallerToken) {
  auto result = Post(R"({"method":"GET","callerToken":"secret-caller-token"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(json::serialize(*result).find("secret-caller-token"), std::string::npos);
}

TEST_F(TestConsoleTest, TraceHandleIsClosed) {
  gateway_.response = MakeError(ErrorCode::kUnavailable, "connection refused");
  for (int i = 0; i < 100; ++i) {
    auto result = Post(R"({"method":"GET"})");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  }
  EXPECT_EQ(console_.counters().failed.load(), 100u);
  EXPECT_TRUE(traces_.Open().has_value());
}

TEST_F(TestConsoleTest, RejectsInvalidBodies) {
  const char* bodies[] = {
      R"({})",
      R"({"method":"GE T"})",
      R"({"method":"GET","path":"whoami"})",
      R"({"method":"GET","path":"/a b"})",
      R"({"method":"GET","path":"/a\r\nX: y"})",
      R"({"method":"GET","headers":{"a":"b"}})",
      R"({"method":"GET","headers":[["Host","evil"]]})",
      R"({"method":"GET","headers":[["x-credgate-trace","guess"]]})",
      R"({"method":"GET","headers":[["Authorization","x"]],"callerToken":"t"})",
      R"({"method":"GET","headers":[["x-a","1\n2"]]})",
      R"({"method":"GET","unknown":1})",
      R"({"method":"GET","callerToken":7})",
  };
  for (const char* body : bodies) {
    auto result = Post(body);
    ASSERT_FALSE(result.ok()) << body;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << body;
  }
  EXPECT_FALSE(gateway_.sent.has_value());
  EXPECT_EQ(console_.counters().rejected.load(), std::size(bodies));
}

TEST_F(TestConsoleTest, UnknownApiIsNotFound) {
  auto result = Post(R"({"method":"GET"})", "/apis/missing/test");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
}

TEST_F(TestConsoleTest, OnlyPost) {
  auto result = Post("", "/apis/backend/test", "GET");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kMethodNotAllowed);
}

}  // namespace
}  // namespace credgate::management
