#include "policy/trace.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

#include "policy/document.h"
#include "policy/executor.h"

namespace credgate::policy {
namespace {

// Services whose get-authorization-context returns `result` and whose trace records.
class TracingServices : public PolicyServices {
 public:
  boost::asio::awaitable<Result<Value>> GetAuthorizationContext(
      const AuthorizationContextRequest&, PolicyContext&) override {
    co_return result;
  }
  PolicyTrace* trace() override { return &recorded; }

  Result<Value> result = Value(MakeAuthorization("backend-token-0123456789abcdef", Entries{}));
  PolicyTrace recorded;
};

constexpr const char* kPolicy = R"xml(<policies>
  <inbound>
    <get-authorization-context provider-id="github" authorization-id="alice"
        context-variable-name="auth-context" identity-type="managed" ignore-error="false" />
    <set-header name="Authorization" exists-action="override" id="send-token">
      <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault(
          "auth-context"))?.AccessToken)</value>
    </set-header>
    <set-variable name="user" value="alice" />
  </inbound>
  <on-error>
    <set-header name="x-failed" exists-action="override"><value>yes</value></set-header>
  </on-error>
</policies>)xml";

class TraceTest : public ::testing::Test {
 protected:
  std::vector<TraceStep> RunInbound() {
    auto document = CompilePolicyDocument(kPolicy, PolicyScope::kGlobal);
    EXPECT_TRUE(document.ok()) << document.error().message;
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    auto composed = ComposePipeline(shared, nullptr, nullptr);
    EXPECT_TRUE(composed.ok());
    boost::asio::io_context io;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          co_await Execute(**composed, Section::kInbound, context_, services_);
        },
        boost::asio::detached);
    io.run();
    return services_.recorded.Steps();
  }

  PolicyContext context_;
  TracingServices services_;
};

TEST_F(TraceTest, RecordsEachStatement) {
  std::vector<TraceStep> steps = RunInbound();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].statement, "get-authorization-context");
  EXPECT_EQ(steps[0].outcome, "completed");
  EXPECT_EQ(steps[0].detail, "stored the connection's token in variable 'auth-context'");
  EXPECT_EQ(steps[1].statement, "set-header");
  EXPECT_EQ(steps[1].id, "send-token");
  EXPECT_EQ(steps[1].detail, "set header 'Authorization'");
  EXPECT_EQ(steps[2].detail, "set variable 'user'");
  EXPECT_EQ(steps[2].section, "inbound");
  EXPECT_EQ(steps[2].scope, "global");
}

TEST_F(TraceTest, NeverContainsTheToken) {
  for (const TraceStep& step : RunInbound()) {
    EXPECT_EQ(step.detail.find("backend-token"), std::string::npos) << step.detail;
  }
}

TEST_F(TraceTest, FailureNamesReasonAndRunsOnError) {
  services_.result = MakeError(ErrorCode::kPermissionDenied,
                               "caller eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln is not allowed",
                               "AccessDenied");
  std::vector<TraceStep> steps = RunInbound();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].outcome, "failed");
  EXPECT_EQ(steps[0].detail, "403 AccessDenied: caller [redacted] is not allowed");
  EXPECT_EQ(steps[1].section, "on-error");
  EXPECT_EQ(steps[1].detail, "set header 'x-failed'");
}

TEST(TraceRegistryTest, ClaimsHandleOnce) {
  OpenSslRandom random;
  TraceRegistry registry(random);
  auto opened = registry.Open();
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(registry.Claim(opened->handle), opened->trace);
  EXPECT_EQ(registry.Claim(opened->handle), nullptr);
}

TEST(TraceRegistryTest, ClosedHandleIsUnknown) {
  OpenSslRandom random;
  TraceRegistry registry(random);
  auto opened = registry.Open();
  ASSERT_TRUE(opened.has_value());
  registry.Close(opened->handle);
  EXPECT_EQ(registry.Claim(opened->handle), nullptr);
  EXPECT_EQ(registry.Claim("unknown"), nullptr);
}

TEST(TraceRegistryTest, LimitsOpenTraces) {
  OpenSslRandom random;
  TraceRegistry registry(random, 2);
  auto first = registry.Open();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(registry.Open().has_value());
  EXPECT_FALSE(registry.Open().has_value());
  registry.Close(first->handle);
  EXPECT_TRUE(registry.Open().has_value());
}

TEST(RedactTokenWordsTest, Cases) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"short words stay", "short words stay"},
      {"token abcdefghijABCDEFGHIJ0123 here", "token [redacted] here"},
      {"jwt eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "jwt [redacted]"},
      {"nineteen-characters", "nineteen-characters"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(RedactTokenWords(input), expected) << input;
  }
}

}  // namespace
}  // namespace credgate::policy
