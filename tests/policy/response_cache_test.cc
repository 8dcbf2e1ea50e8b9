// cache-lookup and cache-store on a compiled document: the inbound section runs first, then the
// outbound section with a response standing for the backend's.
#include "policy/response_cache.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

#include "policy/document.h"
#include "policy/executor.h"

namespace credgate::policy {
namespace {

class NoServices : public PolicyServices {
 public:
  boost::asio::awaitable<Result<Value>> GetAuthorizationContext(const AuthorizationContextRequest&,
                                                                PolicyContext&) override {
    co_return MakeError(ErrorCode::kInternal, "not used");
  }
};

// Every test uses its own operation id, because the process-wide cache outlives each test.
class ResponseCacheTest : public ::testing::Test {
 protected:
  void Compile(const std::string& lookup,
               const std::string& store = R"(<cache-store duration="60"/>)") {
    auto document = CompilePolicyDocument(
        "<policies><inbound>" + lookup + "</inbound><outbound>" + store + "</outbound></policies>",
        PolicyScope::kGlobal);
    ASSERT_TRUE(document.ok()) << document.error().message;
    EXPECT_TRUE(document->reads_response_body);
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    pipeline_ = ComposePipeline(shared, nullptr, nullptr).value();
  }

  std::string CompileError(const std::string& inbound) {
    auto document = CompilePolicyDocument("<policies><inbound>" + inbound + "</inbound></policies>",
                                          PolicyScope::kGlobal);
    return document.ok() ? "<compiled>" : document.error().message;
  }

  // A fresh request of `operation` with `query` and `headers`.
  PolicyContext Request(const std::string& operation, const std::string& query = "",
                        const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    PolicyContext context;
    context.api.id = "api";
    context.operation.id = operation;
    context.request.method = "GET";
    context.request.path = "/orders";
    context.request.query_string = query;
    for (const auto& [name, value] : headers) context.request.headers.Set(name, value);
    return context;
  }

  ExecutionOutcome RunSection(Section section, PolicyContext& context) {
    boost::asio::io_context io;
    std::optional<ExecutionOutcome> outcome;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          outcome = co_await Execute(*pipeline_, section, context, services_);
        },
        boost::asio::detached);
    io.run();
    return outcome.value_or(ExecutionOutcome::kContinue);
  }

  // Runs inbound, and on a miss outbound with a backend response of `status` and `body`.
  // Returns true when inbound responded from the cache.
  bool Send(PolicyContext& context, int status = 200, const std::string& body = "backend") {
    if (RunSection(Section::kInbound, context) == ExecutionOutcome::kRespond) return true;
    context.response.status_code = status;
    context.response.headers.Set("Content-Type", "text/plain");
    context.response.body = body;
    RunSection(Section::kOutbound, context);
    return false;
  }

  NoServices services_;
  std::shared_ptr<const CompiledPipeline> pipeline_;
};

constexpr char kLookup[] =
    R"(<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"/>)";

TEST_F(ResponseCacheTest, SecondRequestHits) {
  Compile(kLookup);
  PolicyContext first = Request("hit");
  EXPECT_FALSE(Send(first, 200, "one"));
  PolicyContext second = Request("hit");
  EXPECT_TRUE(Send(second, 200, "two"));
  EXPECT_EQ(second.response.status_code, 200);
  EXPECT_EQ(second.response.body, "one");
  EXPECT_EQ(second.response.headers.Get("Content-Type").value_or(""), "text/plain");
}

TEST_F(ResponseCacheTest, OnlyStatus200Stored) {
  Compile(kLookup);
  PolicyContext first = Request("status");
  Send(first, 500, "failed");
  PolicyContext second = Request("status");
  EXPECT_FALSE(Send(second, 200, "ok"));
}

TEST_F(ResponseCacheTest, CacheResponseStoresAnyStatus) {
  Compile(kLookup, R"(<cache-store duration="60" cache-response="true"/>)");
  PolicyContext first = Request("any-status");
  Send(first, 404, "missing");
  PolicyContext second = Request("any-status");
  EXPECT_TRUE(Send(second));
  EXPECT_EQ(second.response.status_code, 404);
}

TEST_F(ResponseCacheTest, VaryByQueryParameter) {
  Compile(R"(<cache-lookup vary-by-developer="false" vary-by-developer-groups="false">
      <vary-by-query-parameter>page</vary-by-query-parameter></cache-lookup>)");
  PolicyContext first = Request("vary-query", "page=1&other=a");
  Send(first, 200, "page one");
  PolicyContext other_value = Request("vary-query", "page=2");
  EXPECT_FALSE(Send(other_value, 200, "page two"));
  PolicyContext ignored_parameter = Request("vary-query", "other=b&page=1");
  EXPECT_TRUE(Send(ignored_parameter));
  EXPECT_EQ(ignored_parameter.response.body, "page one");
}

TEST_F(ResponseCacheTest, VaryByHeader) {
  Compile(R"(<cache-lookup vary-by-developer="false" vary-by-developer-groups="false">
      <vary-by-header>Accept</vary-by-header></cache-lookup>)");
  PolicyContext json = Request("vary-header", "", {{"Accept", "application/json"}});
  Send(json, 200, "json");
  PolicyContext xml = Request("vary-header", "", {{"Accept", "application/xml"}});
  EXPECT_FALSE(Send(xml, 200, "xml"));
  PolicyContext json_again = Request("vary-header", "", {{"accept", "application/json"}});
  EXPECT_TRUE(Send(json_again));
  EXPECT_EQ(json_again.response.body, "json");
}

TEST_F(ResponseCacheTest, AuthorizationBypassesUnlessAllowed) {
  Compile(kLookup);
  const uint64_t bypassed = ProcessResponseCacheCounters().bypassed.load();
  PolicyContext first = Request("private", "", {{"Authorization", "Bearer a"}});
  Send(first, 200, "private");
  PolicyContext second = Request("private", "", {{"Authorization", "Bearer a"}});
  EXPECT_FALSE(Send(second));
  EXPECT_EQ(ProcessResponseCacheCounters().bypassed.load(), bypassed + 2);

  Compile(R"(<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"
      allow-private-response-caching="true"><vary-by-header>Authorization</vary-by-header>
      </cache-lookup>)");
  PolicyContext allowed = Request("private-allowed", "", {{"Authorization", "Bearer a"}});
  Send(allowed, 200, "for a");
  PolicyContext again = Request("private-allowed", "", {{"Authorization", "Bearer a"}});
  EXPECT_TRUE(Send(again));
  PolicyContext other_caller = Request("private-allowed", "", {{"Authorization", "Bearer b"}});
  EXPECT_FALSE(Send(other_caller));
}

TEST_F(ResponseCacheTest, PostNotCached) {
  Compile(kLookup);
  PolicyContext first = Request("post");
  first.request.method = "POST";
  Send(first);
  PolicyContext second = Request("post");
  second.request.method = "POST";
  EXPECT_FALSE(Send(second));
}

TEST_F(ResponseCacheTest, DownstreamCacheControl) {
  Compile(R"(<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"
      downstream-caching-type="public" must-revalidate="false"/>)",
          R"(<cache-store duration="120"/>)");
  PolicyContext first = Request("downstream");
  Send(first);
  EXPECT_EQ(first.response.headers.Get("Cache-Control").value_or(""), "public, max-age=120");
  PolicyContext second = Request("downstream");
  EXPECT_TRUE(Send(second));
  EXPECT_NE(second.response.headers.Get("Cache-Control").value_or("").find("public, max-age="),
            std::string::npos);
}

TEST_F(ResponseCacheTest, CountersCountHitsAndMisses) {
  Compile(kLookup);
  const uint64_t hits = ProcessResponseCacheCounters().hits.load();
  const uint64_t misses = ProcessResponseCacheCounters().misses.load();
  const uint64_t stores = ProcessResponseCacheCounters().stores.load();
  PolicyContext first = Request("counters");
  Send(first);
  PolicyContext second = Request("counters");
  Send(second);
  EXPECT_EQ(ProcessResponseCacheCounters().hits.load(), hits + 1);
  EXPECT_EQ(ProcessResponseCacheCounters().misses.load(), misses + 1);
  EXPECT_EQ(ProcessResponseCacheCounters().stores.load(), stores + 1);
}

TEST_F(ResponseCacheTest, RejectsAtSave) {
  EXPECT_NE(
      CompileError(R"(<cache-lookup vary-by-developer="true" vary-by-developer-groups="false"/>)")
          .find("credgate has no developers"),
      std::string::npos);
  EXPECT_NE(CompileError(R"(<cache-lookup vary-by-developer-groups="false"/>)")
                .find("missing required attribute 'vary-by-developer'"),
            std::string::npos);
  EXPECT_NE(CompileError(R"(<cache-lookup vary-by-developer="false"
      vary-by-developer-groups="false" caching-type="external"/>)")
                .find("only its internal cache"),
            std::string::npos);
  EXPECT_NE(CompileError(R"(<cache-lookup vary-by-developer="false"
      vary-by-developer-groups="false" downstream-caching-type="shared"/>)")
                .find("use none, private or public"),
            std::string::npos);
  EXPECT_NE(CompileError(R"(<cache-lookup vary-by-developer="false"
      vary-by-developer-groups="false"><vary-by-user/></cache-lookup>)")
                .find("unknown element <vary-by-user>"),
            std::string::npos);
  EXPECT_NE(CompileError(R"(<cache-store duration="60"/>)").find("not allowed in <inbound>"),
            std::string::npos);
}

}  // namespace
}  // namespace credgate::policy
