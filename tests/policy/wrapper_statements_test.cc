#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

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

TEST_F(WrapperTest, RejectsForwardRequestInside) {
  EXPECT_NE(CompileError(
                "backend",
                R"x(<retry condition="@(true)" count="2" interval="1"><forward-request/></retry>)x")
                .find("<forward-request> inside <retry> is not supported"),
            std::string::npos);
  EXPECT_NE(
      CompileError(
          "backend",
          R"(<limit-concurrency key="k" max-count="1"><forward-request/></limit-concurrency>)")
          .find("<forward-request> inside <limit-concurrency> is not supported"),
      std::string::npos);
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
