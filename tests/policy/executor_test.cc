#include "policy/executor.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <optional>

#include "policy/document.h"

namespace credgate::policy {
namespace {

class FakeServices : public PolicyServices {
 public:
  boost::asio::awaitable<Result<Value>> GetAuthorizationContext(
      const AuthorizationContextRequest& request, PolicyContext&) override {
    // Suspend once, as a real lookup would.
    co_await boost::asio::post(co_await boost::asio::this_coro::executor,
                               boost::asio::use_awaitable);
    requests.push_back(request);
    co_return result;
  }

  std::vector<AuthorizationContextRequest> requests;
  Result<Value> result = Value(MakeAuthorization("backend-token", Entries{}));
};

constexpr const char* kCanonical = R"xml(<policies>
  <inbound>
    <get-authorization-context provider-id="github" authorization-id="alice"
        context-variable-name="auth-context" identity-type="jwt"
        identity="@(context.Request.Headers.GetValueOrDefault("Authorization","").Replace("Bearer ",""))"
        ignore-error="false" />
    <set-header name="Authorization" exists-action="override">
      <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
    </set-header>
  </inbound>
  <backend><forward-request timeout="20" /></backend>
</policies>)xml";

class ExecutorTest : public ::testing::Test {
 protected:
  ExecutorTest() { context_.request.headers.Append("Authorization", "Bearer caller-jwt"); }

  // Compiles `xml` as the only (global) document of the pipeline.
  void Load(const std::string& xml) {
    auto document = CompilePolicyDocument(xml, PolicyScope::kGlobal);
    ASSERT_TRUE(document.ok()) << document.error().message;
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    auto pipeline = ComposePipeline(shared, nullptr, nullptr);
    ASSERT_TRUE(pipeline.ok()) << pipeline.error().message;
    pipeline_ = std::move(pipeline).value();
  }

  // Runs `section` on a local io_context until it finishes.
  ExecutionOutcome Run(Section section) {
    boost::asio::io_context io;
    std::optional<ExecutionOutcome> outcome;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          outcome = co_await Execute(*pipeline_, section, context_, services_);
        },
        boost::asio::detached);
    io.run();
    EXPECT_TRUE(outcome.has_value());
    return outcome.value_or(ExecutionOutcome::kContinue);
  }

  std::string RequestHeader(std::string_view name) {
    return context_.request.headers.GetJoined(name).value_or("<absent>");
  }

  boost::json::value ResponseJson() { return boost::json::parse(context_.response.body); }

  PolicyContext context_;
  FakeServices services_;
  std::shared_ptr<const CompiledPipeline> pipeline_;
};

TEST_F(ExecutorTest, CanonicalPolicyInjectsToken) {
  Load(kCanonical);
  EXPECT_EQ(Run(Section::kInbound), ExecutionOutcome::kContinue);
  ASSERT_EQ(services_.requests.size(), 1u);
  EXPECT_EQ(services_.requests[0].provider_id, "github");
  EXPECT_EQ(services_.requests[0].authorization_id, "alice");
  EXPECT_EQ(services_.requests[0].identity_type, IdentityType::kJwt);
  EXPECT_EQ(services_.requests[0].identity_token, "caller-jwt");
  EXPECT_EQ(RequestHeader("authorization"), "Bearer backend-token");
  EXPECT_FALSE(context_.response_ready);
}

TEST_F(ExecutorTest, BackendForwardRequest) {
  Load(kCanonical);
  EXPECT_EQ(Run(Section::kBackend), ExecutionOutcome::kContinue);
  EXPECT_TRUE(context_.forward.requested);
  EXPECT_EQ(context_.forward.timeout, std::chrono::seconds(20));
}

TEST_F(ExecutorTest, JwtWithoutIdentityUsesBearer) {
  Load(R"xml(<policies><inbound><get-authorization-context provider-id="@("git" + "hub")"
      authorization-id="a" context-variable-name="v" identity-type="jwt"/></inbound></policies>)xml");
  Run(Section::kInbound);
  ASSERT_EQ(services_.requests.size(), 1u);
  EXPECT_EQ(services_.requests[0].provider_id, "github");
  EXPECT_EQ(services_.requests[0].identity_token, "caller-jwt");
  EXPECT_TRUE(context_.variables.at("v").is_object());
}

TEST_F(ExecutorTest, ManagedIdentityHasNoToken) {
  Load(R"xml(<policies><inbound><get-authorization-context provider-id="p"
      authorization-id="a" context-variable-name="v"/></inbound></policies>)xml");
  Run(Section::kInbound);
  ASSERT_EQ(services_.requests.size(), 1u);
  EXPECT_EQ(services_.requests[0].identity_type, IdentityType::kManaged);
  EXPECT_EQ(services_.requests[0].identity_token, "");
}

TEST_F(ExecutorTest, FailureWithoutOnErrorReturnsJson) {
  services_.result =
      MakeError(ErrorCode::kPermissionDenied, "alice may not use github", "AccessDenied");
  Load(kCanonical);
  EXPECT_EQ(Run(Section::kInbound), ExecutionOutcome::kRespond);
  EXPECT_TRUE(context_.response_ready);
  EXPECT_EQ(context_.response.status_code, 403);
  EXPECT_EQ(*context_.response.headers.Get("content-type"), "application/json");
  boost::json::value body = ResponseJson();
  EXPECT_EQ(body.at("statusCode").as_int64(), 403);
  EXPECT_EQ(body.at("message").as_string(), "alice may not use github");
  // The set-header after the failed statement did not run.
  EXPECT_EQ(RequestHeader("Authorization"), "Bearer caller-jwt");
}

TEST_F(ExecutorTest, FailureRunsOnErrorWithLastError) {
  services_.result = MakeError(ErrorCode::kUnauthenticated, "the JWT expired", "InvalidJwt");
  Load(R"xml(<policies>
  <inbound>
    <get-authorization-context id="auth" provider-id="p" authorization-id="a"
        context-variable-name="v" identity-type="jwt" />
  </inbound>
  <on-error>
    <set-header name="X-Error-Source" exists-action="override">
      <value>@(context.LastError.Source)</value>
    </set-header>
    <set-body>@(context.LastError.Reason + "|" + context.LastError.Section + "|" + context.LastError.Scope + "|" + context.LastError.PolicyId + "|" + context.LastError.Path)</set-body>
  </on-error>
</policies>)xml");
  EXPECT_EQ(Run(Section::kInbound), ExecutionOutcome::kRespond);
  ASSERT_TRUE(context_.last_error.has_value());
  EXPECT_EQ(context_.last_error->message, "the JWT expired");
  EXPECT_EQ(context_.response.status_code, 401);
  EXPECT_EQ(*context_.response.headers.Get("X-Error-Source"), "get-authorization-context");
  EXPECT_EQ(context_.response.body, "InvalidJwt|inbound|global|auth|get-authorization-context[1]");
}

TEST_F(ExecutorTest, IgnoreErrorSetsNull) {
  services_.result = MakeError(ErrorCode::kNotFound, "no such authorization");
  Load(R"xml(<policies><inbound>
    <get-authorization-context provider-id="p" authorization-id="a" context-variable-name="v"
        ignore-error="true" />
    <set-header name="X-Has-Token" exists-action="override">
      <value>@(context.Variables["v"] == null ? "no" : "yes")</value>
    </set-header>
  </inbound></policies>)xml");
  EXPECT_EQ(Run(Section::kInbound), ExecutionOutcome::kContinue);
  ASSERT_TRUE(context_.variables.contains("v"));
  EXPECT_TRUE(context_.variables.at("v").is_null());
  EXPECT_EQ(RequestHeader("X-Has-Token"), "no");
}

TEST_F(ExecutorTest, ExpressionFailureRunsOnError) {
  Load(R"xml(<policies>
  <inbound>
    <set-variable name="x" value="@(((Authorization)context.Variables.GetValueOrDefault("missing")).AccessToken)" />
  </inbound>
  <on-error><set-status code="502" reason="Bad" /></on-error>
</policies>)xml");
  EXPECT_EQ(Run(Section::kInbound), ExecutionOutcome::kRespond);
  ASSERT_TRUE(context_.last_error.has_value());
  EXPECT_EQ(context_.last_error->reason, "ExpressionValueEvaluationFailure");
  EXPECT_EQ(context_.last_error->source, "set-variable");
  EXPECT_EQ(context_.response.status_code, 502);
  EXPECT_EQ(context_.response.reason, "Bad");
}

struct HeaderCase {
  std::string name;
  std::string statement;
  std::string expected;  // Joined value of X-Test after inbound, or "<absent>".
};

class SetHeaderTest : public ExecutorTest, public ::testing::WithParamInterface<HeaderCase> {};

TEST_P(SetHeaderTest, ExistsActions) {
  context_.request.headers.Append("X-Test", "old");
  Load("<policies><inbound>" + GetParam().statement + "</inbound></policies>");
  Run(Section::kInbound);
  EXPECT_EQ(RequestHeader("x-test"), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Actions, SetHeaderTest,
    ::testing::Values(
        HeaderCase{"Override",
                   R"(<set-header name="X-Test" exists-action="override"><value>new</value>)"
                   "</set-header>",
                   "new"},
        HeaderCase{"OverrideIsDefault",
                   R"(<set-header name="X-Test"><value>new</value></set-header>)", "new"},
        HeaderCase{
            "OverrideSeveralValues",
            R"(<set-header name="X-Test"><value>a</value><value>@("b")</value></set-header>)",
            "a,b"},
        HeaderCase{"Skip",
                   R"(<set-header name="X-Test" exists-action="skip"><value>new</value>)"
                   "</set-header>",
                   "old"},
        HeaderCase{"Append",
                   R"(<set-header name="X-Test" exists-action="append"><value>new</value>)"
                   "<value>more</value></set-header>",
                   "old,new,more"},
        HeaderCase{"Delete", R"(<set-header name="x-test" exists-action="delete" />)", "<absent>"},
        HeaderCase{"OverrideReadsOldValue",
                   R"(<set-header name="X-Test" exists-action="override"><value>)"
                   R"(@(context.Request.Headers.GetValueOrDefault("X-Test", "none") + "-new"))"
                   "</value></set-header>",
                   "old-new"}),
    [](const ::testing::TestParamInfo<HeaderCase>& info) { return info.param.name; });

TEST_F(ExecutorTest, AuthorizationSetIsRecorded) {
  Load(R"(<policies><inbound><set-header name="x-other"><value>v</value></set-header>)"
       "</inbound></policies>");
  Run(Section::kInbound);
  EXPECT_FALSE(context_.authorization_set);

  Load(R"(<policies><inbound><set-header name="authorization" exists-action="delete" />)"
       "</inbound></policies>");
  Run(Section::kInbound);
  EXPECT_TRUE(context_.authorization_set);
}

TEST_F(ExecutorTest, SkipAddsAbsentHeader) {
  Load(R"(<policies><inbound><set-header name="X-New" exists-action="skip"><value>v</value>)"
       "</set-header></inbound></policies>");
  Run(Section::kInbound);
  EXPECT_EQ(RequestHeader("X-New"), "v");
}

TEST_F(ExecutorTest, ChooseWhenOtherwise) {
  const std::string xml = R"xml(<policies><inbound><choose>
      <when condition="@(context.Request.Method == "GET")"><set-variable name="r" value="get" /></when>
      <when condition="@(context.Request.Method == "POST")"><set-variable name="r" value="post" /></when>
      <otherwise><set-variable name="r" value="other" /></otherwise>
    </choose></inbound></policies>)xml";
  Load(xml);
  for (auto [method, expected] : {std::pair{"GET", "get"}, {"POST", "post"}, {"PUT", "other"}}) {
    context_.request.method = method;
    Run(Section::kInbound);
    EXPECT_EQ(context_.variables.at("r").AsString(), expected) << method;
  }
}

TEST_F(ExecutorTest, ChooseWithAsyncBranch) {
  Load(R"xml(<policies><inbound><choose>
      <when condition="@(context.Request.Headers.ContainsKey("Authorization"))">
        <get-authorization-context provider-id="p" authorization-id="a" context-variable-name="v" />
      </when></choose></inbound></policies>)xml");
  Run(Section::kInbound);
  EXPECT_EQ(services_.requests.size(), 1u);
}

TEST_F(ExecutorTest, ReturnResponseStopsPipeline) {
  Load(R"xml(<policies><inbound>
    <return-response>
      <set-status code="418" reason="Teapot" />
      <set-header name="X-Reply" exists-action="override"><value>@(context.Request.Method)</value></set-header>
      <set-body>short and stout</set-body>
    </return-response>
    <set-variable name="after" value="ran" />
  </inbound></policies>)xml");
  context_.request.method = "BREW";
  EXPECT_EQ(Run(Section::kInbound), ExecutionOutcome::kRespond);
  EXPECT_TRUE(context_.response_ready);
  EXPECT_EQ(context_.response.status_code, 418);
  EXPECT_EQ(context_.response.reason, "Teapot");
  EXPECT_EQ(*context_.response.headers.Get("X-Reply"), "BREW");
  EXPECT_EQ(context_.response.body, "short and stout");
  EXPECT_FALSE(context_.variables.contains("after"));
}

TEST_F(ExecutorTest, OutboundChangesResponse) {
  Load(R"xml(<policies><outbound>
    <set-header name="Server" exists-action="delete" />
    <set-body>@("status " + context.Response.StatusCode)</set-body>
  </outbound></policies>)xml");
  context_.response.status_code = 201;
  context_.response.headers.Append("Server", "backend");
  EXPECT_EQ(Run(Section::kOutbound), ExecutionOutcome::kContinue);
  EXPECT_FALSE(context_.response.headers.Contains("Server"));
  EXPECT_EQ(context_.response.body, "status 201");
}

TEST_F(ExecutorTest, BlockExpressionInVariable) {
  Load(R"xml(<policies><inbound><set-variable name="kind" value="@{
      var auth = context.Request.Headers.GetValueOrDefault("Authorization", "");
      if (auth.StartsWith("Bearer ")) { return "bearer"; }
      return "none";
    }" /></inbound></policies>)xml");
  Run(Section::kInbound);
  EXPECT_EQ(context_.variables.at("kind").AsString(), "bearer");
}

}  // namespace
}  // namespace credgate::policy
