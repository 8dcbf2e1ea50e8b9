#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

#include "common/encoding.h"
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

class RequestStatementsTest : public ::testing::Test {
 protected:
  RequestStatementsTest() {
    context_.request.method = "GET";
    context_.request.path = "/api/orders/42";
    context_.request.ip_address = "10.1.2.3";
    context_.request.matched_parameters = {{"id", "42"}};
  }

  Status Compile(const std::string& section, const std::string& statements) {
    auto document = CompilePolicyDocument(
        "<policies><" + section + ">" + statements + "</" + section + "></policies>",
        PolicyScope::kGlobal);
    if (!document.ok()) return document.error();
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    auto pipeline = ComposePipeline(shared, nullptr, nullptr);
    if (!pipeline.ok()) return pipeline.error();
    pipeline_ = std::move(pipeline).value();
    return OkStatus();
  }

  std::string CompileError(const std::string& section, const std::string& statements) {
    Status status = Compile(section, statements);
    return status.ok() ? "<compiled>" : status.error().message;
  }

  // Compiles `statements` as the inbound section and runs it.
  ExecutionOutcome Run(const std::string& statements, Section section = Section::kInbound) {
    std::string name = section == Section::kInbound ? "inbound" : "outbound";
    Status status = Compile(name, statements);
    EXPECT_TRUE(status.ok()) << status.error().message;
    if (!status.ok()) return ExecutionOutcome::kContinue;
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

  std::string RequestHeader(std::string_view name) const {
    return context_.request.headers.GetJoined(name).value_or("<absent>");
  }
  std::string ResponseHeader(std::string_view name) const {
    return context_.response.headers.GetJoined(name).value_or("<absent>");
  }
  std::string Reason() const {
    return context_.last_error ? context_.last_error->reason : "<none>";
  }

  PolicyContext context_;
  NoServices services_;
  std::shared_ptr<const CompiledPipeline> pipeline_;
};

TEST_F(RequestStatementsTest, SetMethod) {
  EXPECT_EQ(Run("<set-method>POST</set-method>"), ExecutionOutcome::kContinue);
  EXPECT_EQ(context_.request.method, "POST");
}

TEST_F(RequestStatementsTest, SetMethodExpression) {
  Run(R"(<set-method>@(context.Request.Method == "GET" ? "PUT" : "DELETE")</set-method>)");
  EXPECT_EQ(context_.request.method, "PUT");
}

TEST_F(RequestStatementsTest, RewriteUriWithParameter) {
  context_.request.query_string = "expand=items&page=2";
  Run(R"(<rewrite-uri template="/v2/orders/{id}/details?page=9"/>)");
  ASSERT_TRUE(context_.backend_path.has_value());
  EXPECT_EQ(*context_.backend_path, "/v2/orders/42/details");
  EXPECT_EQ(context_.request.query_string, "page=9&expand=items");
}

TEST_F(RequestStatementsTest, RewriteUriDropsUnmatched) {
  context_.request.query_string = "expand=items";
  Run(R"(<rewrite-uri template="/v2/{id}" copy-unmatched-params="false"/>)");
  EXPECT_EQ(*context_.backend_path, "/v2/42");
  EXPECT_EQ(context_.request.query_string, "");
}

TEST_F(RequestStatementsTest, RewriteUriQueryParameterInTemplate) {
  context_.request.query_string = "user=ann&x=1";
  Run(R"(<rewrite-uri template="/users/{user}"/>)");
  EXPECT_EQ(*context_.backend_path, "/users/ann");
  EXPECT_EQ(context_.request.query_string, "x=1");
}

struct QueryCase {
  std::string name;
  std::string statement;
  std::string expected;
};

class SetQueryParameterTest : public RequestStatementsTest,
                              public ::testing::WithParamInterface<QueryCase> {};

TEST_P(SetQueryParameterTest, ExistsActions) {
  context_.request.query_string = "a=1&b=2&a=3";
  Run(GetParam().statement);
  EXPECT_EQ(context_.request.query_string, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SetQueryParameterTest,
    ::testing::Values(
        QueryCase{"Override",
                  R"(<set-query-parameter name="a"><value>x y</value></set-query-parameter>)",
                  "b=2&a=x%20y"},
        QueryCase{
            "Append",
            R"(<set-query-parameter name="b" exists-action="append"><value>9</value></set-query-parameter>)",
            "a=1&b=2&a=3&b=9"},
        QueryCase{
            "SkipExisting",
            R"(<set-query-parameter name="a" exists-action="skip"><value>9</value></set-query-parameter>)",
            "a=1&b=2&a=3"},
        QueryCase{
            "SkipAbsent",
            R"(<set-query-parameter name="c" exists-action="skip"><value>9</value></set-query-parameter>)",
            "a=1&b=2&a=3&c=9"},
        QueryCase{"Delete", R"(<set-query-parameter name="a" exists-action="delete"/>)", "b=2"},
        QueryCase{
            "TwoValues",
            R"(<set-query-parameter name="c"><value>1</value><value>2</value></set-query-parameter>)",
            "a=1&b=2&a=3&c=1&c=2"}),
    [](const auto& info) { return info.param.name; });

TEST_F(RequestStatementsTest, SetBackendService) {
  Run(R"x(<set-backend-service base-url="@("https://eu.example/" + context.Request.Method)"/>)x");
  ASSERT_TRUE(context_.backend_url.has_value());
  EXPECT_EQ(*context_.backend_url, "https://eu.example/GET");
}

TEST_F(RequestStatementsTest, SetBackendServiceBackendId) {
  context_.backend_url = "https://earlier.example";
  Run(R"(<set-backend-service backend-id="orders"/>)");
  ASSERT_TRUE(context_.backend_id.has_value());
  EXPECT_EQ(*context_.backend_id, "orders");
  EXPECT_FALSE(context_.backend_url.has_value());
  EXPECT_FALSE(context_.dapr.has_value());
}

TEST_F(RequestStatementsTest, SetBackendServiceDapr) {
  Run(R"x(<set-backend-service backend-id="dapr" dapr-app-id="orders"
      dapr-method="@("list-" + context.Request.Method)" dapr-namespace="shop"/>)x");
  ASSERT_TRUE(context_.dapr.has_value());
  EXPECT_EQ(context_.dapr->app_id, "orders");
  EXPECT_EQ(context_.dapr->method, "list-GET");
  EXPECT_EQ(context_.dapr->namespace_name, "shop");
  EXPECT_FALSE(context_.backend_id.has_value());
}

TEST_F(RequestStatementsTest, BackendIdsListedInDocument) {
  auto document = CompilePolicyDocument(
      R"x(<policies><inbound><choose><when condition="@(true)">
        <set-backend-service backend-id="orders"/></when></choose>
        <set-backend-service backend-id="@("by-" + context.Request.Method)"/>
        <set-backend-service backend-id="dapr" dapr-app-id="a" dapr-method="m"/>
      </inbound></policies>)x",
      PolicyScope::kGlobal);
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(document->backends, std::set<std::string>{"orders"});
}

TEST_F(RequestStatementsTest, CheckHeaderPasses) {
  context_.request.headers.Set("X-Version", "V2");
  EXPECT_EQ(Run(R"(<check-header name="x-version" failed-check-httpcode="400"
      failed-check-error-message="bad version" ignore-case="true"><value>v1</value><value>v2</value></check-header>)"),
            ExecutionOutcome::kContinue);
}

TEST_F(RequestStatementsTest, CheckHeaderValueMismatch) {
  context_.request.headers.Set("X-Version", "V2");
  EXPECT_EQ(Run(R"(<check-header name="x-version" failed-check-httpcode="400"
      failed-check-error-message="bad version" ignore-case="false"><value>v2</value></check-header>)"),
            ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 400);
  EXPECT_EQ(Reason(), "HeaderValueNotAllowed");
  EXPECT_NE(context_.response.body.find("bad version"), std::string::npos);
}

TEST_F(RequestStatementsTest, CheckHeaderMissing) {
  EXPECT_EQ(Run(R"(<check-header name="Authorization" failed-check-httpcode="401"
      failed-check-error-message="Not authorized" ignore-case="false"/>)"),
            ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 401);
  EXPECT_EQ(Reason(), "HeaderNotFound");
}

struct IpCase {
  std::string name;
  std::string caller;
  std::string filter;
  bool allowed;
  std::string reason = "";  // The LastError reason when the caller is rejected.
};

class IpFilterTest : public RequestStatementsTest, public ::testing::WithParamInterface<IpCase> {};

TEST_P(IpFilterTest, Decides) {
  context_.request.ip_address = GetParam().caller;
  ExecutionOutcome outcome = Run(GetParam().filter);
  EXPECT_EQ(outcome, GetParam().allowed ? ExecutionOutcome::kContinue : ExecutionOutcome::kRespond);
  if (!GetParam().allowed) {
    EXPECT_EQ(context_.response.status_code, 403);
    EXPECT_EQ(Reason(), GetParam().reason);
  }
}

const std::string kAllowRange =
    R"(<ip-filter action="allow"><address>192.0.2.7</address><address-range from="10.0.0.0" to="10.255.255.255"/></ip-filter>)";
const std::string kForbidV6 =
    R"(<ip-filter action="forbid"><address-range from="2001:db8::" to="2001:db8::ffff"/></ip-filter>)";

INSTANTIATE_TEST_SUITE_P(
    Cases, IpFilterTest,
    ::testing::Values(IpCase{"AllowedAddress", "192.0.2.7", kAllowRange, true},
                      IpCase{"AllowedRange", "10.200.0.1", kAllowRange, true},
                      IpCase{"OutsideAllow", "192.0.2.8", kAllowRange, false,
                             "CallerIpNotAllowed"},
                      IpCase{"MappedV4", "::ffff:10.0.0.1", kAllowRange, true},
                      IpCase{"V6InForbidden", "2001:db8::1", kForbidV6, false, "CallerIpBlocked"},
                      IpCase{"V6OutsideForbidden", "2001:db8::1:0", kForbidV6, true},
                      IpCase{"V4AgainstV6Forbid", "10.0.0.1", kForbidV6, true},
                      IpCase{"UnparsableCaller", "unknown", kAllowRange, false,
                             "FailedToParseCallerIP"}),
    [](const auto& info) { return info.param.name; });

const std::string kCors = R"(<cors allow-credentials="true">
  <allowed-origins><origin>https://app.example</origin></allowed-origins>
  <allowed-methods preflight-result-max-age="300"><method>GET</method><method>PUT</method></allowed-methods>
  <allowed-headers><header>content-type</header><header>x-trace</header></allowed-headers>
  <expose-headers><header>x-request-id</header></expose-headers>
</cors>)";

TEST_F(RequestStatementsTest, CorsPreflightAllowed) {
  context_.request.method = "OPTIONS";
  context_.request.headers.Set("Origin", "https://app.example");
  context_.request.headers.Set("Access-Control-Request-Method", "PUT");
  context_.request.headers.Set("Access-Control-Request-Headers", "Content-Type, X-Trace");
  EXPECT_EQ(Run(kCors), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 200);
  EXPECT_EQ(ResponseHeader("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(ResponseHeader("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(ResponseHeader("Access-Control-Allow-Methods"), "PUT");
  EXPECT_EQ(ResponseHeader("Access-Control-Allow-Headers"), "Content-Type, X-Trace");
  EXPECT_EQ(ResponseHeader("Access-Control-Max-Age"), "300");
}

TEST_F(RequestStatementsTest, CorsPreflightUnmatchedTerminates) {
  context_.request.method = "OPTIONS";
  context_.request.headers.Set("Origin", "https://app.example");
  context_.request.headers.Set("Access-Control-Request-Method", "DELETE");
  EXPECT_EQ(Run(kCors), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 200);
  EXPECT_EQ(ResponseHeader("Access-Control-Allow-Origin"), "<absent>");
}

TEST_F(RequestStatementsTest, CorsActualRequestAddsHeaders) {
  context_.request.headers.Set("Origin", "https://app.example");
  EXPECT_EQ(Run(kCors), ExecutionOutcome::kContinue);
  EXPECT_EQ(context_.added_response_headers.GetJoined("Access-Control-Allow-Origin").value_or(""),
            "https://app.example");
  EXPECT_EQ(context_.added_response_headers.GetJoined("Access-Control-Expose-Headers").value_or(""),
            "x-request-id");
}

TEST_F(RequestStatementsTest, CorsOtherOriginTerminatesGet) {
  context_.request.headers.Set("Origin", "https://evil.example");
  EXPECT_EQ(Run(kCors), ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 200);
  EXPECT_TRUE(context_.added_response_headers.fields().empty());
}

TEST_F(RequestStatementsTest, CorsWildcardOrigin) {
  context_.request.headers.Set("Origin", "https://any.example");
  Run(R"(<cors><allowed-origins><origin>*</origin></allowed-origins></cors>)");
  EXPECT_EQ(context_.added_response_headers.GetJoined("Access-Control-Allow-Origin").value_or(""),
            "*");
}

TEST_F(RequestStatementsTest, MockResponse) {
  EXPECT_EQ(Run(R"(<mock-response status-code="202" content-type="application/json"/>)"),
            ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 202);
  EXPECT_EQ(ResponseHeader("Content-Type"), "application/json");
}

// Examples of an operation with two responses, the 200 one in two representations.
std::shared_ptr<const ResponseExamples> OrderExamples() {
  return std::make_shared<const ResponseExamples>(ResponseExamples{
      {200, "application/xml", "<order/>"},
      {200, "application/json; charset=utf-8", R"({"id":1})"},
      {404, "application/json", R"({"error":"missing"})"},
  });
}

TEST_F(RequestStatementsTest, MockResponseFirstExampleOfStatus) {
  context_.operation.response_examples = OrderExamples();
  Run(R"(<mock-response/>)");
  EXPECT_EQ(context_.response.status_code, 200);
  EXPECT_EQ(ResponseHeader("Content-Type"), "application/xml");
  EXPECT_EQ(context_.response.body, "<order/>");
}

TEST_F(RequestStatementsTest, MockResponseMatchesContentType) {
  context_.operation.response_examples = OrderExamples();
  Run(R"(<mock-response status-code="200" content-type="Application/JSON"/>)");
  EXPECT_EQ(ResponseHeader("Content-Type"), "Application/JSON");
  EXPECT_EQ(context_.response.body, R"({"id":1})");
}

TEST_F(RequestStatementsTest, MockResponseNoMatchEmptyBody) {
  context_.operation.response_examples = OrderExamples();
  Run(R"(<mock-response status-code="404" content-type="text/plain"/>)");
  EXPECT_EQ(context_.response.status_code, 404);
  EXPECT_EQ(ResponseHeader("Content-Type"), "text/plain");
  EXPECT_EQ(context_.response.body, "");
  Run(R"(<mock-response status-code="500"/>)");
  EXPECT_EQ(context_.response.status_code, 500);
  EXPECT_EQ(context_.response.body, "");
}

TEST_F(RequestStatementsTest, AuthenticationBasic) {
  Run(R"x(<authentication-basic username="ann" password="@("s3" + "cret")"/>)x");
  EXPECT_EQ(RequestHeader("Authorization"), "Basic " + Base64Encode("ann:s3cret"));
  EXPECT_TRUE(context_.authorization_set);
}

TEST_F(RequestStatementsTest, TraceRuns) {
  EXPECT_EQ(
      Run(R"(<trace source="orders" severity="information"><message>@("m=" + context.Request.Method)</message><metadata name="k" value="v"/></trace>)"),
      ExecutionOutcome::kContinue);
}

TEST_F(RequestStatementsTest, IdOnEveryStatement) {
  context_.request.ip_address = "192.0.2.1";
  Run(R"(<ip-filter id="office-only" action="allow"><address>10.0.0.1</address></ip-filter>)");
  ASSERT_TRUE(context_.last_error.has_value());
  EXPECT_EQ(context_.last_error->policy_id, "office-only");
  EXPECT_EQ(context_.last_error->source, "ip-filter");
}

struct RejectCase {
  std::string name;
  std::string section;
  std::string statement;
  std::string expected;  // A substring of the error.
};

class RequestCompileTest : public RequestStatementsTest,
                           public ::testing::WithParamInterface<RejectCase> {};

TEST_P(RequestCompileTest, Rejects) {
  std::string error = CompileError(GetParam().section, GetParam().statement);
  EXPECT_NE(error.find(GetParam().expected), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RequestCompileTest,
    ::testing::Values(
        RejectCase{
            "SetMethodOutbound", "outbound", "<set-method>GET</set-method>",
            "<set-method> is not allowed in <outbound>; it belongs in <inbound>, <on-error>"},
        RejectCase{"RewriteUriRelative", "inbound", R"(<rewrite-uri template="v2"/>)",
                   "must start with '/'"},
        RejectCase{"RewriteUriUnknownAttribute", "inbound",
                   R"(<rewrite-uri template="/v2" copy-unmatched-param="true"/>)",
                   "line 1, column 48: unknown attribute 'copy-unmatched-param' on <rewrite-uri>; "
                   "did you mean 'copy-unmatched-params'?"},
        RejectCase{"BaseUrlAndBackendId", "inbound",
                   R"(<set-backend-service base-url="http://a" backend-id="orders"/>)",
                   "needs exactly one of the attributes 'base-url' and 'backend-id'"},
        RejectCase{"NoTarget", "inbound", R"(<set-backend-service/>)",
                   "needs exactly one of the attributes 'base-url' and 'backend-id'"},
        RejectCase{"ServiceFabric", "inbound",
                   R"(<set-backend-service backend-id="b" sf-partition-key="1"/>)",
                   "cannot resolve Service Fabric services"},
        RejectCase{"DaprOtherBackendId", "inbound",
                   R"(<set-backend-service backend-id="orders" dapr-app-id="a" dapr-method="m"/>)",
                   "needs backend-id=\"dapr\""},
        RejectCase{"DaprNoMethod", "inbound",
                   R"(<set-backend-service backend-id="dapr" dapr-app-id="a"/>)",
                   "needs the attributes 'dapr-app-id' and 'dapr-method'"},
        RejectCase{"DaprWithBaseUrl", "inbound",
                   R"(<set-backend-service base-url="http://a" dapr-app-id="a"/>)",
                   "need backend-id=\"dapr\" in place of base-url"},
        RejectCase{"BaseUrlNotHttp", "inbound", R"(<set-backend-service base-url="ftp://x"/>)",
                   "absolute http or https URL"},
        RejectCase{
            "CheckHeaderNoIgnoreCase", "inbound",
            R"(<check-header name="a" failed-check-httpcode="401" failed-check-error-message="m"/>)",
            "missing required attribute 'ignore-case'"},
        RejectCase{"IpFilterBadAddress", "inbound",
                   R"(<ip-filter action="allow"><address>10.0.0.300</address></ip-filter>)",
                   "<address> must contain an IPv4 or IPv6 address"},
        RejectCase{
            "IpFilterReversedRange", "inbound",
            R"(<ip-filter action="allow"><address-range from="10.0.0.9" to="10.0.0.1"/></ip-filter>)",
            "before its start"},
        RejectCase{"IpFilterBadAction", "inbound",
                   R"(<ip-filter action="deny"><address>10.0.0.1</address></ip-filter>)",
                   "use allow or forbid"},
        RejectCase{
            "CorsCredentialsWildcard", "inbound",
            R"(<cors allow-credentials="true"><allowed-origins><origin>*</origin></allowed-origins></cors>)",
            "cannot be combined with the origin '*'"},
        RejectCase{
            "CorsUnknownChild", "inbound",
            R"(<cors><allowed-origins><origin>*</origin></allowed-origins><allowed-header/></cors>)",
            "unknown element <allowed-header> in <cors>; did you mean <allowed-headers>?"},
        RejectCase{"CorsOutbound", "outbound",
                   R"(<cors><allowed-origins><origin>*</origin></allowed-origins></cors>)",
                   "<cors> is not allowed in <outbound>"},
        RejectCase{"MockResponseBadStatus", "inbound", R"(<mock-response status-code="99"/>)",
                   "attribute 'status-code'"},
        RejectCase{"BasicColonUser", "inbound",
                   R"(<authentication-basic username="a:b" password="p"/>)",
                   "must not contain ':'"},
        RejectCase{"TraceNoMessage", "inbound", R"(<trace source="s"/>)",
                   "<trace> needs a <message>"},
        RejectCase{"TraceBadSeverity", "inbound",
                   R"(<trace source="s" severity="debug"><message>m</message></trace>)",
                   "use verbose, information or error"},
        RejectCase{"SetBodyOtherTemplate", "inbound",
                   R"(<set-body template="handlebars">x</set-body>)", "use 'liquid' or 'none'"},
        RejectCase{"SetBodyXsiNil", "inbound",
                   R"(<set-body template="liquid" xsi-nil="empty">x</set-body>)",
                   "use 'blank' or 'null'"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace credgate::policy
