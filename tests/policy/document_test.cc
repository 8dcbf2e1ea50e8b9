#include "policy/document.h"

#include <gtest/gtest.h>

#include <string>

#include "policy/pipeline.h"

namespace credgate::policy {
namespace {

constexpr const char* kCanonical = R"xml(<policies>
  <inbound>
    <base />
    <get-authorization-context provider-id="github" authorization-id="alice"
        context-variable-name="auth-context" identity-type="jwt"
        identity="@(context.Request.Headers.GetValueOrDefault("Authorization","").Replace("Bearer ",""))"
        ignore-error="false" />
    <set-header name="Authorization" exists-action="override">
      <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
    </set-header>
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>)xml";

// Returns the compile error message of `xml`, or "" when it compiles.
std::string CompileError(const std::string& xml, PolicyScope scope = PolicyScope::kApi) {
  auto document = CompilePolicyDocument(xml, scope);
  return document.ok() ? "" : document.error().message;
}

std::string Wrap(const std::string& inbound) {
  return "<policies>\n<inbound>\n" + inbound + "\n</inbound>\n</policies>";
}

TEST(DocumentTest, CompilesCanonicalDocument) {
  auto document = CompilePolicyDocument(kCanonical, PolicyScope::kApi);
  ASSERT_TRUE(document.ok()) << document.error().message;
  const auto& inbound = document->section(Section::kInbound);
  ASSERT_TRUE(inbound.has_value());
  ASSERT_EQ(inbound->size(), 3u);
  EXPECT_EQ((*inbound)[1].name, "get-authorization-context");
  EXPECT_EQ((*inbound)[1].line, 4);
  EXPECT_EQ((*inbound)[1].column, 6);
  EXPECT_TRUE((*inbound)[1].is_async);
  const auto& spec = std::get<GetAuthorizationContextSpec>((*inbound)[1].spec);
  EXPECT_EQ(spec.identity_type, IdentityType::kJwt);
  ASSERT_TRUE(spec.identity.has_value());
  EXPECT_TRUE(spec.identity->is_expression());
  EXPECT_EQ(spec.provider_id.literal(), "github");
  EXPECT_EQ((*inbound)[2].path, "set-header[1]");
}

TEST(DocumentTest, CommentsAndEmptySectionsAllowed) {
  EXPECT_EQ(CompileError("<!-- c --><policies><!-- x --><inbound/><outbound></outbound>"
                         "</policies>"),
            "");
}

TEST(DocumentTest, NestedPathsAndAsyncFlag) {
  auto document = CompilePolicyDocument(
      Wrap(R"xml(<choose><when condition="@(true)"><set-variable name="a" value="1"/></when>)xml"
           R"xml(<when condition="@(false)"><get-authorization-context provider-id="p" )xml"
           R"xml(authorization-id="a" context-variable-name="v"/></when><otherwise/></choose>)xml"),
      PolicyScope::kGlobal);
  ASSERT_TRUE(document.ok()) << document.error().message;
  const Statement& choose = (*document->section(Section::kInbound))[0];
  EXPECT_TRUE(choose.is_async);
  const auto& spec = std::get<ChooseSpec>(choose.spec);
  EXPECT_EQ(spec.when[1].statements[0].path, "choose[1]/when[2]/get-authorization-context[1]");
  EXPECT_TRUE(spec.otherwise.has_value());
}

// Returns `depth` <choose> statements, each inside the <when> of the one before.
std::string NestedChoose(size_t depth) {
  std::string xml;
  for (size_t i = 0; i < depth; ++i) xml += "<choose><when condition=\"@(true)\">";
  xml += "<set-variable name=\"a\" value=\"1\"/>";
  for (size_t i = 0; i < depth; ++i) xml += "</when></choose>";
  return xml;
}

TEST(DocumentTest, ChooseNestingAtLimitCompiles) {
  EXPECT_EQ(CompileError(Wrap(NestedChoose(kMaxChooseNesting))), "");
}

TEST(DocumentTest, ChooseNestingBeyondLimitIsRejected) {
  std::string message = CompileError(Wrap(NestedChoose(kMaxChooseNesting + 1)));
  const std::string expected =
      "<choose> is nested more than " + std::to_string(kMaxChooseNesting) + " levels deep";
  EXPECT_NE(message.find(expected), std::string::npos) << message;
}

TEST(DocumentTest, HostileChooseNestingIsRejected) {
  // 10,000 levels take about 500 KB, within the 1 MiB request body limit of the management API.
  // Without the limit, compiling them overflows an 8 MB stack.
  std::string message = CompileError(Wrap(NestedChoose(10'000)));
  EXPECT_NE(message.find("is nested more than"), std::string::npos) << message;
}

struct ErrorCase {
  std::string name;
  std::string xml;
  PolicyScope scope;
  std::string expected;  // Expected prefix of the message, or a part of it after "...".
};

class DocumentErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(DocumentErrorTest, Rejects) {
  std::string message = CompileError(GetParam().xml, GetParam().scope);
  EXPECT_EQ(message.substr(0, GetParam().expected.size()), GetParam().expected) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, DocumentErrorTest,
    ::testing::Values(
        ErrorCase{"MalformedXml", "<policies>\n<inbound>\n</policies>", PolicyScope::kApi,
                  "line 3, column 3: malformed XML"},
        ErrorCase{"WrongRoot", "<policy/>", PolicyScope::kApi,
                  "line 1, column 2: the root element is <policy>"},
        ErrorCase{"UnknownSection", "<policies>\n  <inbond/>\n</policies>", PolicyScope::kApi,
                  "line 2, column 4: unknown section <inbond>; did you mean <inbound>?"},
        ErrorCase{"RepeatedSection", "<policies><inbound/><inbound/></policies>", PolicyScope::kApi,
                  "line 1, column 22: repeated section <inbound>"},
        ErrorCase{"UnknownStatement", Wrap("<set-headr name=\"a\"/>"), PolicyScope::kApi,
                  "line 3, column 2: unknown statement <set-headr>; did you mean <set-header>?"},
        ErrorCase{"UnknownAttribute",
                  "<policies>\n<inbound>\n  <base/>\n     <get-authorization-context "
                  "provder-id=\"p\" authorization-id=\"a\" context-variable-name=\"v\"/>\n"
                  "</inbound>\n</policies>",
                  PolicyScope::kApi,
                  "line 4, column 33: unknown attribute 'provder-id' on "
                  "<get-authorization-context>; did you mean 'provider-id'?"},
        ErrorCase{"MissingAttribute",
                  Wrap("<get-authorization-context provider-id=\"p\" authorization-id=\"a\"/>"),
                  PolicyScope::kApi,
                  "line 3, column 2: missing required attribute 'context-variable-name'"},
        ErrorCase{"InvalidIdentityType",
                  Wrap("<get-authorization-context provider-id=\"p\" authorization-id=\"a\" "
                       "context-variable-name=\"v\" identity-type=\"user\"/>"),
                  PolicyScope::kApi,
                  "line 3, column 91: invalid value 'user' for attribute 'identity-type'"},
        ErrorCase{"InvalidExistsAction", Wrap("<set-header name=\"a\" exists-action=\"replace\"/>"),
                  PolicyScope::kApi,
                  "line 3, column 22: invalid value 'replace' for attribute 'exists-action'"},
        ErrorCase{"InvalidBool",
                  Wrap("<get-authorization-context provider-id=\"p\" authorization-id=\"a\" "
                       "context-variable-name=\"v\" ignore-error=\"yes\"/>"),
                  PolicyScope::kApi, "line 3, column 91: invalid value 'yes'"},
        ErrorCase{"WrongSection", "<policies><outbound><forward-request/></outbound></policies>",
                  PolicyScope::kApi,
                  "line 1, column 22: <forward-request> is not allowed in <outbound>"},
        ErrorCase{"AuthorizationOutsideInbound",
                  "<policies><backend><get-authorization-context provider-id=\"p\" "
                  "authorization-id=\"a\" context-variable-name=\"v\"/></backend></policies>",
                  PolicyScope::kApi,
                  "line 1, column 21: <get-authorization-context> is not allowed in <backend>"},
        ErrorCase{"BaseInGlobal", Wrap("<base/>"), PolicyScope::kGlobal,
                  "line 3, column 2: <base/> is not allowed in a global-scope document"},
        ErrorCase{"BaseInsideChoose",
                  Wrap("<choose><when condition=\"@(true)\"><base/></when></choose>"),
                  PolicyScope::kApi, "line 3, column 36: <base/> is allowed only directly"},
        ErrorCase{"ExpressionError",
                  Wrap("<set-header name=\"a\"><value>@(contxt.Request)</value></set-header>"),
                  PolicyScope::kApi,
                  "line 3, column 31: invalid expression in the text of <value>: unknown "
                  "identifier 'contxt'"},
        ErrorCase{"ExpressionErrorInAttribute",
                  Wrap("<set-variable name=\"a\" value=\"@(&quot;x&quot;.Lenght)\"/>"),
                  PolicyScope::kApi,
                  "line 3, column 47: invalid expression in attribute 'value' of "
                  "<set-variable>: String has no member 'Lenght'"},
        ErrorCase{"RawQuotesExpressionError",
                  Wrap("<set-variable name=\"a\" value=\"@(\"x\".Lenght)\"/>"), PolicyScope::kApi,
                  "line 3, column 37: invalid expression in attribute 'value'"},
        ErrorCase{"ConditionNotExpression", Wrap("<choose><when condition=\"true\"/></choose>"),
                  PolicyScope::kApi,
                  "line 3, column 15: attribute 'condition' on <when> must be an expression"},
        ErrorCase{"ChooseWithoutWhen", Wrap("<choose><otherwise/></choose>"), PolicyScope::kApi,
                  "line 3, column 2: <choose> needs at least one <when"},
        ErrorCase{"BadStatusCode",
                  Wrap("<return-response><set-status code=\"abc\"/></return-response>"),
                  PolicyScope::kApi, "line 3, column 30: invalid status code 'abc'"},
        ErrorCase{"UnknownReturnResponseChild",
                  Wrap("<return-response><set-variable name=\"a\" value=\"b\"/></return-response>"),
                  PolicyScope::kApi, "line 3, column 19: unknown element <set-variable>"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

class PipelineTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CompiledDocument> Compile(const std::string& xml, PolicyScope scope) {
    auto document = CompilePolicyDocument(xml, scope);
    EXPECT_TRUE(document.ok()) << document.error().message;
    if (!document.ok()) return nullptr;
    return std::make_shared<const CompiledDocument>(std::move(document).value());
  }

  // Returns the names of the set-variable statements of `section`, joined by ",".
  static std::string Names(const CompiledPipeline& pipeline, Section section) {
    std::string names;
    for (const PipelineStatement& entry : pipeline.section(section)) {
      const auto& spec = std::get<SetVariableSpec>(entry.statement->spec);
      names += (names.empty() ? "" : ",") + spec.name + "@" + std::string(ScopeName(entry.scope));
    }
    return names;
  }
};

TEST_F(PipelineTest, BaseInsertsOuterScopes) {
  auto global = Compile(
      "<policies><inbound><set-variable name=\"g\" value=\"1\"/></inbound>"
      "<outbound><set-variable name=\"go\" value=\"1\"/></outbound></policies>",
      PolicyScope::kGlobal);
  auto api = Compile(
      "<policies><inbound><set-variable name=\"a1\" value=\"1\"/><base/>"
      "<set-variable name=\"a2\" value=\"1\"/></inbound>"
      "<outbound><set-variable name=\"ao\" value=\"1\"/></outbound></policies>",
      PolicyScope::kApi);
  auto operation = Compile(
      "<policies><inbound><base/><set-variable name=\"o\" value=\"1\"/></inbound></policies>",
      PolicyScope::kOperation);
  auto pipeline = ComposePipeline(global, api, operation);
  ASSERT_TRUE(pipeline.ok()) << pipeline.error().message;
  EXPECT_EQ(Names(**pipeline, Section::kInbound), "a1@api,g@global,a2@api,o@operation");
  // The API's outbound has no <base/>, so it replaces the global one; the operation inherits.
  EXPECT_EQ(Names(**pipeline, Section::kOutbound), "ao@api");
  EXPECT_EQ(Names(**pipeline, Section::kBackend), "");
}

TEST_F(PipelineTest, MissingScopesAreSkipped) {
  auto operation = Compile(
      "<policies><inbound><base/><set-variable name=\"o\" value=\"1\"/></inbound></policies>",
      PolicyScope::kOperation);
  auto pipeline = ComposePipeline(nullptr, nullptr, operation);
  ASSERT_TRUE(pipeline.ok());
  EXPECT_EQ(Names(**pipeline, Section::kInbound), "o@operation");
}

TEST_F(PipelineTest, RejectsMisplacedScope) {
  auto api = Compile("<policies/>", PolicyScope::kApi);
  auto pipeline = ComposePipeline(api, nullptr, nullptr);
  ASSERT_FALSE(pipeline.ok());
  EXPECT_NE(pipeline.error().message.find("scope 'api' was passed as the global"),
            std::string::npos);
}

}  // namespace
}  // namespace credgate::policy
