#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "policy/document.h"
#include "policy/executor.h"

namespace credgate::policy {
namespace {

// Completes each send-request after 20 ms, so that concurrent requests overlap.
class SlowServices : public PolicyServices {
 public:
  boost::asio::awaitable<Result<Value>> GetAuthorizationContext(const AuthorizationContextRequest&,
                                                                PolicyContext&) override {
    co_return MakeError(ErrorCode::kInternal, "not used");
  }
  boost::asio::awaitable<Result<http::ClientResponse>> SendRequest(http::ClientRequest) override {
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer timer(executor, std::chrono::milliseconds(20));
    co_await timer.async_wait(boost::asio::use_awaitable);
    ++sent;
    co_return http::ClientResponse{200, {}, ""};
  }
  int sent = 0;
};

class WrapperTest : public ::testing::Test {
 protected:
  void Load(const std::string& inbound) {
    auto document = CompilePolicyDocument("<policies><inbound>" + inbound + "</inbound></policies>",
                                          PolicyScope::kGlobal);
    ASSERT_TRUE(document.ok()) << document.error().message;
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    pipeline_ = ComposePipeline(shared, nullptr, nullptr).value();
  }

  std::string CompileError(const std::string& section, const std::string& statements) {
    auto document = CompilePolicyDocument(
        "<policies><" + section + ">" + statements + "</" + section + "></policies>",
        PolicyScope::kGlobal);
    return document.ok() ? "<compiled>" : document.error().message;
  }

  // Runs inbound for each of `contexts` at the same time on one io_context.
  std::vector<ExecutionOutcome> RunConcurrently(std::vector<PolicyContext>& contexts) {
    boost::asio::io_context io;
    std::vector<ExecutionOutcome> outcomes(contexts.size(), ExecutionOutcome::kContinue);
    for (size_t i = 0; i < contexts.size(); ++i) {
      boost::asio::co_spawn(
          io,
          [&, i]() -> boost::asio::awaitable<void> {
            outcomes[i] = co_await Execute(*pipeline_, Section::kInbound, contexts[i], services_);
          },
          boost::asio::detached);
    }
    io.run();
    return outcomes;
  }

  SlowServices services_;
  std::shared_ptr<const CompiledPipeline> pipeline_;
};

TEST_F(WrapperTest, RetryUntilConditionFalse) {
  Load(
      R"x(<retry condition="@((int)context.Variables.GetValueOrDefault("n", 0) < 3)" count="5" interval="0">
      <set-variable name="n" value="@((int)context.Variables.GetValueOrDefault("n", 0) + 1)"/>
    </retry>)x");
  std::vector<PolicyContext> contexts(1);
  EXPECT_EQ(RunConcurrently(contexts)[0], ExecutionOutcome::kContinue);
  EXPECT_EQ(contexts[0].variables.at("n").AsInt(), 3);
}

TEST_F(WrapperTest, RetryStopsAfterCount) {
  Load(
      R"x(<retry condition="@(true)" count="2" interval="0" delta="0" max-interval="0" first-fast-retry="true">
      <set-variable name="n" value="@((int)context.Variables.GetValueOrDefault("n", 0) + 1)"/>
    </retry>)x");
  std::vector<PolicyContext> contexts(1);
  RunConcurrently(contexts);
  EXPECT_EQ(contexts[0].variables.at("n").AsInt(), 3);  // The first run and two retries.
}

TEST_F(WrapperTest, RetryWaitsInterval) {
  Load(
      R"x(<retry condition="@((int)context.Variables.GetValueOrDefault("n", 0) < 2)" count="1" interval="1">
      <set-variable name="n" value="@((int)context.Variables.GetValueOrDefault("n", 0) + 1)"/>
    </retry>)x");
  std::vector<PolicyContext> contexts(1);
  const auto start = std::chrono::steady_clock::now();
  RunConcurrently(contexts);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_EQ(contexts[0].variables.at("n").AsInt(), 2);
}

TEST_F(WrapperTest, LimitConcurrencyRejectsOverflow) {
  Load(R"(<limit-concurrency key="backend" max-count="2">
      <send-request response-variable-name="r"><set-url>https://svc.example/</set-url></send-request>
    </limit-concurrency>)");
  std::vector<PolicyContext> contexts(3);
  std::vector<ExecutionOutcome> outcomes = RunConcurrently(contexts);
  EXPECT_EQ(outcomes[0], ExecutionOutcome::kContinue);
  EXPECT_EQ(outcomes[1], ExecutionOutcome::kContinue);
  EXPECT_EQ(outcomes[2], ExecutionOutcome::kRespond);
  EXPECT_EQ(contexts[2].response.status_code, 429);
  EXPECT_EQ(contexts[2].last_error->reason, "ConcurrencyLimitExceeded");
  EXPECT_EQ(services_.sent, 2);

  // The slots are free again once the requests finished.
  std::vector<PolicyContext> later(1);
  EXPECT_EQ(RunConcurrently(later)[0], ExecutionOutcome::kContinue);
}

// Responds to each forward-request with the next status of `statuses` (the last one repeats), or
// fails every call with `failure` when it is set.
class BackendServices : public PolicyServices {
 public:
  boost::asio::awaitable<Result<Value>> GetAuthorizationContext(const AuthorizationContextRequest&,
                                                                PolicyContext&) override {
    co_return MakeError(ErrorCode::kInternal, "not used");
  }
  boost::asio::awaitable<Status> ForwardRequest(const ForwardRequestSpec& spec,
                                                PolicyContext& context) override {
    ++calls;
    bodies.push_back(context.request.body);
    timeouts.push_back(spec.timeout_set ? spec.timeout : std::chrono::milliseconds(0));
    if (failure) co_return *failure;
    const size_t index = std::min(static_cast<size_t>(calls - 1), statuses.size() - 1);
    context.response = ResponseState{};
    context.response.status_code = statuses[index];
    context.response.body = "attempt " + std::to_string(calls);
    context.backend_responded = true;
    co_return OkStatus();
  }
  std::vector<int> statuses{200};
  std::optional<Error> failure;
  int calls = 0;
  std::vector<std::string> bodies;
  std::vector<std::chrono::milliseconds> timeouts;
};

class ForwardInsideWrapperTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CompiledPipeline> Compile(const std::string& backend,
                                                  const std::string& on_error = "") {
    auto document = CompilePolicyDocument("<policies><backend>" + backend +
                                              "</backend><on-error>" + on_error +
                                              "</on-error></policies>",
                                          PolicyScope::kGlobal);
    EXPECT_TRUE(document.ok()) << document.error().message;
    if (!document.ok()) return nullptr;
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    return ComposePipeline(shared, nullptr, nullptr).value();
  }

  ExecutionOutcome RunBackend(const CompiledPipeline& pipeline) {
    boost::asio::io_context io;
    ExecutionOutcome outcome = ExecutionOutcome::kContinue;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          outcome = co_await Execute(pipeline, Section::kBackend, context_, services_);
        },
        boost::asio::detached);
    io.run();
    return outcome;
  }

  BackendServices services_;
  PolicyContext context_;
};

TEST_F(ForwardInsideWrapperTest, RetryResendsWhileBackendFails) {
  auto pipeline = Compile(
      R"x(<retry condition="@(context.Response.StatusCode >= 500)" count="3" interval="0">
        <forward-request buffer-request-body="true" timeout="7"/>
      </retry>)x");
  ASSERT_NE(pipeline, nullptr);
  EXPECT_TRUE(pipeline->reads_request_body());
  services_.statuses = {503, 502, 200};
  context_.request.body = "payload";

  EXPECT_EQ(RunBackend(*pipeline), ExecutionOutcome::kContinue);
  EXPECT_EQ(services_.calls, 3);
  EXPECT_TRUE(context_.backend_responded);
  EXPECT_EQ(context_.response.status_code, 200);
  EXPECT_EQ(context_.response.body, "attempt 3");
  EXPECT_EQ(services_.bodies, std::vector<std::string>(3, "payload"));
  EXPECT_EQ(services_.timeouts[0], std::chrono::seconds(7));
}

TEST_F(ForwardInsideWrapperTest, RetryReturnsLastFailedResponse) {
  auto pipeline = Compile(
      R"x(<retry condition="@(context.Response.StatusCode == 503)" count="2" interval="0">
        <forward-request/>
      </retry>)x");
  ASSERT_NE(pipeline, nullptr);
  services_.statuses = {503};

  EXPECT_EQ(RunBackend(*pipeline), ExecutionOutcome::kContinue);
  EXPECT_EQ(services_.calls, 3);  // The first attempt and two retries.
  EXPECT_EQ(context_.response.status_code, 503);
}

TEST_F(ForwardInsideWrapperTest, LimitConcurrencySendsOnce) {
  auto pipeline = Compile(
      R"(<limit-concurrency key="backend" max-count="1"><forward-request timeout="120"/></limit-concurrency>)");
  ASSERT_NE(pipeline, nullptr);

  EXPECT_EQ(RunBackend(*pipeline), ExecutionOutcome::kContinue);
  EXPECT_EQ(services_.calls, 1);
  EXPECT_TRUE(context_.backend_responded);
}

TEST_F(ForwardInsideWrapperTest, TopLevelForwardOnlyRecordsSettings) {
  auto pipeline = Compile(R"(<forward-request timeout="9"/>)");
  ASSERT_NE(pipeline, nullptr);
  EXPECT_FALSE(pipeline->reads_request_body());

  EXPECT_EQ(RunBackend(*pipeline), ExecutionOutcome::kContinue);
  EXPECT_EQ(services_.calls, 0);
  EXPECT_FALSE(context_.backend_responded);
  EXPECT_TRUE(context_.forward.requested);
  EXPECT_TRUE(context_.forward.timeout_set);
  EXPECT_EQ(context_.forward.timeout, std::chrono::seconds(9));
}

TEST_F(ForwardInsideWrapperTest, FollowRedirectsSendsFromPolicy) {
  auto pipeline = Compile(R"(<forward-request follow-redirects="true"/>)");
  ASSERT_NE(pipeline, nullptr);
  EXPECT_TRUE(pipeline->reads_request_body());

  EXPECT_EQ(RunBackend(*pipeline), ExecutionOutcome::kContinue);
  EXPECT_EQ(services_.calls, 1);
  EXPECT_TRUE(context_.backend_responded);
}

TEST_F(ForwardInsideWrapperTest, HttpVersionTwoRejected) {
  EXPECT_NE(Compile(R"(<forward-request http-version="2or1"/>)"), nullptr);
  auto document = CompilePolicyDocument(
      R"(<policies><backend><forward-request http-version="2"/></backend></policies>)",
      PolicyScope::kGlobal);
  ASSERT_FALSE(document.ok());
  EXPECT_NE(document.error().message.find("http-version '2'"), std::string::npos)
      << document.error().message;
}

TEST_F(ForwardInsideWrapperTest, UnreachableBackendRunsOnError) {
  auto pipeline = Compile(
      R"x(<retry condition="@(false)" count="1" interval="0"><forward-request/></retry>)x",
      R"x(<set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>)x");
  ASSERT_NE(pipeline, nullptr);
  services_.failure = MakeError(ErrorCode::kBadGateway, "The backend could not be reached",
                                "BackendConnectionFailure");

  EXPECT_EQ(RunBackend(*pipeline), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 502);
  ASSERT_TRUE(context_.last_error.has_value());
  EXPECT_EQ(context_.last_error->source, "forward-request");
  EXPECT_EQ(context_.last_error->reason, "BackendConnectionFailure");
  EXPECT_EQ(context_.response.headers.Get("x-reason"), "BackendConnectionFailure");
}

TEST_F(ForwardInsideWrapperTest, FailOnErrorStatusCodeRunsOnError) {
  auto pipeline = Compile(
      R"x(<retry condition="@(false)" count="1" interval="0"><forward-request fail-on-error-status-code="true"/></retry>)x");
  ASSERT_NE(pipeline, nullptr);
  services_.statuses = {404};

  EXPECT_EQ(RunBackend(*pipeline), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 404);
  ASSERT_TRUE(context_.last_error.has_value());
  EXPECT_EQ(context_.last_error->reason, "BackendError");
}

TEST_F(WrapperTest, RejectsInvalidAttributes) {
  EXPECT_NE(CompileError("inbound", R"x(<retry condition="@(true)" count="0" interval="1"/>)x")
                .find("attribute 'count'"),
            std::string::npos);
  EXPECT_NE(CompileError("inbound", R"x(<retry condition="true" count="1" interval="1"/>)x")
                .find("must be an expression"),
            std::string::npos);
  EXPECT_NE(
      CompileError("inbound",
                   R"x(<retry condition="@(true)" count="1" interval="1" max-interval="5"/>)x")
          .find("needs 'delta'"),
      std::string::npos);
  EXPECT_NE(CompileError("inbound", R"(<limit-concurrency key="k"/>)")
                .find("missing required attribute 'max-count'"),
            std::string::npos);
}

}  // namespace
}  // namespace credgate::policy
