#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

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

class LiquidSetBodyTest : public ::testing::Test {
 protected:
  LiquidSetBodyTest() {
    context_.request.method = "POST";
    context_.request.scheme = "https";
    context_.request.host = "gw.test";
    context_.request.path = "/orders/42";
    context_.request.query_string = "expand=items&page=2";
    context_.request.ip_address = "10.1.2.3";
    context_.request.matched_parameters = {{"id", "42"}};
    context_.request.headers.Append("Content-Type", "application/json; charset=utf-8");
    context_.request.headers.Append("X-Tenant", "blue");
  }

  Result<CompiledDocument> Compile(const std::string& section, const std::string& statements) {
    return CompilePolicyDocument(
        "<policies><" + section + ">" + statements + "</" + section + "></policies>",
        PolicyScope::kGlobal);
  }

  std::string CompileError(const std::string& section, const std::string& statements) {
    auto document = Compile(section, statements);
    return document.ok() ? "<compiled>" : document.error().message;
  }

  // Compiles the whole document `xml` and runs `section` of it.
  void RunDocument(const std::string& xml, Section section) {
    auto document = CompilePolicyDocument(xml, PolicyScope::kGlobal);
    ASSERT_TRUE(document.ok()) << document.error().message;
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    auto pipeline = ComposePipeline(shared, nullptr, nullptr);
    ASSERT_TRUE(pipeline.ok());
    boost::asio::io_context io;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          co_await Execute(**pipeline, section, context_, services_);
        },
        boost::asio::detached);
    io.run();
  }

  // Compiles `statements` into `section` and runs it. Returns the body that the section sets, or
  // "failed: <message>" when a statement failed.
  std::string Run(const std::string& statements, Section section = Section::kInbound) {
    std::string name = section == Section::kInbound ? "inbound" : "outbound";
    RunDocument("<policies><" + name + ">" + statements + "</" + name + "></policies>", section);
    if (context_.last_error) return "failed: " + context_.last_error->message;
    return section == Section::kInbound ? context_.request.body : context_.response.body;
  }

  PolicyContext context_;
  NoServices services_;
};

TEST_F(LiquidSetBodyTest, JsonRequestBody) {
  context_.request.body = R"({"customer": {"purchase": {"identifier": "p-7", "items": [1, 2]}}})";
  std::string body = Run(R"(<set-body template="liquid">
{"order": {"id": "{{body.customer.purchase.identifier}}", "count": {{ body.customer.purchase.items | Size }}}}
</set-body>)");
  EXPECT_EQ(body, R"({"order": {"id": "p-7", "count": 2}})");
  EXPECT_TRUE(context_.request_body_set);
}

TEST_F(LiquidSetBodyTest, XmlElementsInTemplate) {
  context_.request.body = R"({"getOpenOrders": {"cust": "C-1"}})";
  std::string body = Run(
      R"(<set-body template="liquid"><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><cust>{{body.getOpenOrders.cust}}</cust></soap:Body></soap:Envelope></set-body>)");
  EXPECT_EQ(
      body,
      R"(<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><cust>C-1</cust></soap:Body></soap:Envelope>)");
}

TEST_F(LiquidSetBodyTest, JsonToSoapWithLoop) {
  context_.request.headers.Append("X-Channel", "mobile");
  context_.request.body = R"({"order": {"cust": "c-7", "lines": [{"sku": "a1"}, {"sku": "b2"}]}})";
  std::string body = Run(R"(<set-body template="liquid">
  <Order xmlns="http://tempuri.org/">
    <cust>{{body.order.cust | Upcase}}</cust>
    {% for line in body.order.lines %}<line n="{{forloop.index}}">{{line.sku}}</line>{% endfor %}
    <via>{{context.Request.Headers["X-Channel"] | Default: "web"}}</via>
  </Order>
</set-body>
<set-header name="Content-Type" exists-action="override"><value>text/xml</value></set-header>)");
  EXPECT_EQ(body,
            "<Order xmlns=\"http://tempuri.org/\">\n    <cust>C-7</cust>\n    "
            "<line n=\"1\">a1</line><line n=\"2\">b2</line>\n    <via>mobile</via>\n  </Order>");
  EXPECT_EQ(*context_.request.headers.Get("Content-Type"), "text/xml");
}

TEST_F(LiquidSetBodyTest, CdataTemplate) {
  context_.request.body = R"({"n": 3})";
  EXPECT_EQ(
      Run(R"(<set-body template="liquid"><![CDATA[{% if body.n < 5 %}<small/>{% endif %}]]></set-body>)"),
      "<small/>");
}

TEST_F(LiquidSetBodyTest, ContextMembers) {
  std::string body = Run(
      R"(<set-body template="liquid">{{context.Request.Method}} {{context.Request.Url.Path}} {{context.Request.Url.Query.page}} {{context.Request.Headers["X-Tenant"]}} {{context.Request.MatchedParameters.id}} {{context.Request.IpAddress}} {{context.Request.Url}}</set-body>)");
  EXPECT_EQ(body,
            "POST /orders/42 2 blue 42 10.1.2.3 https://gw.test/orders/42?expand=items&page=2");
}

TEST_F(LiquidSetBodyTest, ContextVariables) {
  std::string body = Run(R"xml(<set-variable name="order" value="o-9" />
<set-variable name="count" value="@(3)" />
<set-variable name="doc" value="@(new JObject { ["k"] = "v" })" />
<set-body template="liquid">{{context.Variables.order}} {{context.Variables["count"] | Plus: 1}} {{context.Variables.doc.k}} [{{context.Variables.none}}]</set-body>)xml");
  EXPECT_EQ(body, "o-9 4 v []");
}

TEST_F(LiquidSetBodyTest, OnErrorRendersResponse) {
  context_.request.body = R"({"a": 1})";
  RunDocument(R"xml(<policies>
  <inbound>
    <set-variable name="order" value="o-9" />
    <set-variable name="x" value="@(((Authorization)context.Variables.GetValueOrDefault("missing")).AccessToken)" />
  </inbound>
  <on-error>
    <set-status code="502" reason="Bad Gateway" />
    <set-body template="liquid">{"order": "{{context.Variables.order}}", "status": {{context.Response.StatusCode}}}</set-body>
  </on-error>
</policies>)xml",
              Section::kInbound);
  ASSERT_TRUE(context_.last_error.has_value());
  EXPECT_EQ(context_.response.status_code, 502);
  EXPECT_EQ(context_.response.body, R"({"order": "o-9", "status": 502})");
}

TEST_F(LiquidSetBodyTest, XmlRequestBody) {
  context_.request.headers.Set("Content-Type", "text/xml");
  context_.request.body =
      R"(<order id="9"><line>a</line><line>b</line><note xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/></order>)";
  std::string body = Run(
      R"(<set-body template="liquid">{{body.order["@id"]}}:{% for l in body.order.line %}{{l}}{% endfor %}:[{{body.order.note}}]</set-body>)");
  EXPECT_EQ(body, "9:ab:[]");
}

TEST_F(LiquidSetBodyTest, XsiNilNull) {
  context_.request.headers.Set("Content-Type", "application/xml");
  context_.request.body =
      R"(<r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><v xsi:nil="true"/></r>)";
  std::string body = Run(
      R"(<set-body template="liquid" xsi-nil="null">{% if body.r.v == nil %}nil{% else %}blank{% endif %}</set-body>)");
  EXPECT_EQ(body, "nil");
}

TEST_F(LiquidSetBodyTest, OtherContentTypeLeavesBodyNil) {
  context_.request.headers.Set("Content-Type", "text/plain");
  context_.request.body = R"({"a": 1})";
  EXPECT_EQ(Run(R"(<set-body template="liquid">[{{body.a}}]</set-body>)"), "[]");
}

TEST_F(LiquidSetBodyTest, InvalidJsonFails) {
  context_.request.body = "{not json";
  std::string body = Run(R"(<set-body template="liquid">{{body.a}}</set-body>)");
  EXPECT_NE(body.find("failed: the body is not valid JSON"), std::string::npos) << body;
  EXPECT_EQ(context_.last_error->reason, "ExpressionValueEvaluationFailure");
}

TEST_F(LiquidSetBodyTest, ResponseBodyInOutbound) {
  context_.response.headers.Append("Content-Type", "application/json");
  context_.response.body = R"({"temp": 21.5})";
  EXPECT_EQ(
      Run(R"(<set-body template="liquid">{{ body.temp | Round }}</set-body>)", Section::kOutbound),
      "22");
  EXPECT_TRUE(context_.response_body_set);
}

TEST_F(LiquidSetBodyTest, ReturnResponseRendersEmptyBody) {
  context_.request.body = R"({"a": 1})";
  Run(R"(<return-response><set-body template="liquid">[{{body.a}}]</set-body></return-response>)");
  EXPECT_EQ(context_.response.body, "[]");
}

TEST_F(LiquidSetBodyTest, DocumentReadsRequestBody) {
  auto document = Compile("inbound", R"(<set-body template="liquid">{{body.a}}</set-body>)");
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_TRUE(document->reads_request_body);
  EXPECT_FALSE(document->reads_response_body);
}

TEST_F(LiquidSetBodyTest, DocumentReadsResponseBody) {
  auto document = Compile("outbound", R"(<set-body template="liquid">{{body.a}}</set-body>)");
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_TRUE(document->reads_response_body);
}

TEST_F(LiquidSetBodyTest, UnknownFilterRejectedWithPosition) {
  EXPECT_EQ(
      CompileError("inbound", "<set-body template=\"liquid\">\n  {{ body.a | upcase }}</set-body>"),
      "line 2, column 15: invalid Liquid template in <set-body>: unknown filter 'upcase'; "
      "filters are written in PascalCase, for example Upcase or DividedBy");
}

TEST_F(LiquidSetBodyTest, MissingEndTagRejectedWithPosition) {
  EXPECT_EQ(CompileError("inbound",
                         "<set-body template=\"liquid\"><a>{% for x in body %}</a></set-body>"),
            "line 1, column 51: invalid Liquid template in <set-body>: {% for %} has no "
            "{% endfor %}");
}

TEST_F(LiquidSetBodyTest, ParseDateReadsDates) {
  context_.request.body =
      R"({"d": "2012-03-21T05:40:00Z", "ms": "/Date(1198908717056)/", "day": "2012-03-21"})";
  EXPECT_EQ(
      Run(R"(<set-body template="liquid">{{body.d}}|{{body.d | Date: "yyyyMMdd"}}|{{body.ms}}|{{body.day}}</set-body>)"),
      "03/21/2012 05:40:00|20120321|12/29/2007 06:11:57|2012-03-21");
}

TEST_F(LiquidSetBodyTest, ParseDateFalseKeepsText) {
  context_.request.body = R"({"d": "2012-03-21T05:40:00Z"})";
  EXPECT_EQ(Run(R"(<set-body template="liquid" parse-date="false">{{body.d}}</set-body>)"),
            "2012-03-21T05:40:00Z");
}

TEST_F(LiquidSetBodyTest, ParseDateMustBeBoolean) {
  std::string error =
      CompileError("inbound", R"(<set-body template="liquid" parse-date="maybe">x</set-body>)");
  EXPECT_NE(error.find("parse-date"), std::string::npos) << error;
}

}  // namespace
}  // namespace credgate::policy
