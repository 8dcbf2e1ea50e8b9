#include "policy/expression.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "expression_fixture.h"

namespace credgate::policy {
namespace {

TEST_F(ExpressionTest, CanonicalBearerInjection) {
  EXPECT_EQ(EvalString("@(\"Bearer \" + ((Authorization)context.Variables.GetValueOrDefault("
                       "\"auth-context\"))?.AccessToken)"),
            "Bearer token-1");
}

TEST_F(ExpressionTest, CanonicalIdentityFromHeader) {
  EXPECT_EQ(EvalString("@(context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\")"
                       ".Replace(\"Bearer \",\"\"))"),
            "abc.def");
}

TEST_F(ExpressionTest, NullConditionalOnMissingVariable) {
  context_.variables.erase("auth-context");
  EXPECT_EQ(EvalString("@(\"Bearer \" + ((Authorization)context.Variables.GetValueOrDefault("
                       "\"auth-context\"))?.AccessToken)"),
            "Bearer ");
}

struct EvalCase {
  std::string text;
  std::string expected;  // Value::ToString() of the result.
};

class ExpressionEvalTest : public ExpressionTest, public ::testing::WithParamInterface<EvalCase> {};

TEST_P(ExpressionEvalTest, Evaluates) {
  EXPECT_EQ(EvalString(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Operators, ExpressionEvalTest,
    ::testing::Values(
        EvalCase{R"(@("a\tb\"c\\d\u0041"))", "a\tb\"c\\dA"},
        EvalCase{R"(@(@"C:\path ""q"""))", "C:\\path \"q\""}, EvalCase{"@('x')", "x"},
        EvalCase{"@(1 + 2 * 3)", "7"}, EvalCase{"@((1 + 2) * 3)", "9"}, EvalCase{"@(7 / 2)", "3"},
        EvalCase{"@(7 % 4)", "3"}, EvalCase{"@(7.5 - 0.5)", "7"}, EvalCase{"@(-3 + 1)", "-2"},
        EvalCase{"@(\"n=\" + 5)", "n=5"}, EvalCase{"@(5 + \"x\" + true)", "5xTrue"},
        EvalCase{"@(\"a\" + null)", "a"}, EvalCase{"@(1 == 1)", "True"},
        EvalCase{"@(1 == 1.0)", "True"}, EvalCase{"@(\"a\" != \"b\")", "True"},
        EvalCase{"@(null == null)", "True"}, EvalCase{"@(1 < 2)", "True"},
        EvalCase{"@(2 > 2)", "False"}, EvalCase{"@(2 <= 2)", "True"},
        EvalCase{"@(1 >= 2)", "False"}, EvalCase{"@(true && false)", "False"},
        EvalCase{"@(false || true)", "True"}, EvalCase{"@(!true)", "False"},
        EvalCase{"@(false && (1 / 0 == 0))", "False"},
        EvalCase{"@(1 < 2 ? \"yes\" : \"no\")", "yes"},
        EvalCase{"@(null ?? \"fallback\")", "fallback"},
        EvalCase{"@(\"set\" ?? \"fallback\")", "set"}, EvalCase{"@(context.Request.Method)", "GET"},
        EvalCase{"@(context.Request.Url.Path)", "/orders/42"},
        EvalCase{"@(context.Request.Url.Host)", "api.example.com"},
        EvalCase{"@(context.Request.Url.Scheme)", "https"},
        EvalCase{"@(context.Request.Url.Port)", "8443"},
        EvalCase{"@(context.Request.Url.QueryString)", "page=2&tag=a&tag=b"},
        EvalCase{"@(context.Request.Url.Query.GetValueOrDefault(\"tag\", \"\"))", "a,b"},
        EvalCase{"@(context.Request.Url.ToString())",
                 "https://api.example.com:8443/orders/42?page=2&tag=a&tag=b"},
        EvalCase{"@(context.Request.Headers.GetValueOrDefault(\"x-multi\", \"\"))", "one,two"},
        EvalCase{"@(context.Request.Headers.ContainsKey(\"AUTHORIZATION\"))", "True"},
        EvalCase{"@(context.Request.Headers.GetValueOrDefault(\"Missing\", \"none\"))", "none"},
        EvalCase{"@(context.Request.IpAddress)", "127.0.0.1"},
        EvalCase{"@(context.Request.MatchedParameters[\"id\"])", "42"},
        EvalCase{"@(context.RequestId)", "req-1"},
        EvalCase{"@(context.Api.Id + \"/\" + context.Api.Name + \"/\" + context.Api.Path)",
                 "orders-api/Orders/orders"},
        EvalCase{"@(context.Operation.Id + \" \" + context.Operation.Method + \" \" + "
                 "context.Operation.UrlTemplate)",
                 "get-order GET /orders/{id}"},
        EvalCase{"@(context.Response.StatusCode)", "200"},
        EvalCase{"@(context.LastError?.Message ?? \"none\")", "none"},
        EvalCase{"@((int)context.Variables[\"count\"] + 1)", "4"},
        EvalCase{"@(context.Variables.GetValueOrDefault<int>(\"count\", 0) * 2)", "6"},
        EvalCase{"@(context.Variables.ContainsKey(\"count\"))", "True"},
        EvalCase{"@(((Authorization)context.Variables[\"auth-context\"]).Claims"
                 ".GetValueOrDefault(\"sub\", \"\"))",
                 "alice"},
        EvalCase{"@(((Authorization)context.Variables[\"auth-context\"]).Claims[\"sub\"])",
                 "alice"},
        EvalCase{"@(((Authorization)context.Variables[\"auth-context\"]).Claims"
                 ".ContainsKey(\"aud\"))",
                 "False"},
        EvalCase{"@(\"a,b,c\".Split(',')[1])", "b"},
        EvalCase{"@(\"a,b,c\".Split(',').Length)", "3"},
        EvalCase{"@(\"abcdef\".Substring(2))", "cdef"},
        EvalCase{"@(\"abcdef\".Substring(1, 3))", "bcd"},
        EvalCase{"@(\"abc\".Contains(\"b\"))", "True"},
        EvalCase{"@(\"abc\".StartsWith(\"ab\"))", "True"},
        EvalCase{"@(\"abc\".EndsWith(\"bc\"))", "True"}, EvalCase{"@(\"AbC\".ToLower())", "abc"},
        EvalCase{"@(\"AbC\".ToUpper())", "ABC"}, EvalCase{"@(\"  x \".Trim())", "x"},
        EvalCase{"@(\"abcabc\".IndexOf(\"c\"))", "2"}, EvalCase{"@(\"abc\".IndexOf(\"z\"))", "-1"},
        EvalCase{"@(\"abc\".Length)", "3"}, EvalCase{"@(42.ToString())", "42"},
        EvalCase{"@(string.IsNullOrEmpty(\"\"))", "True"},
        EvalCase{"@(string.IsNullOrEmpty(context.Variables.GetValueOrDefault(\"nope\")))", "True"},
        EvalCase{"@((string)context.Variables.GetValueOrDefault(\"nope\") ?? \"null\")", "null"},
        EvalCase{"@{ var x = 2; var y = x * 5; return \"v\" + y; }", "v10"},
        EvalCase{"@{ if (context.Request.Method == \"GET\") { return \"read\"; } else { return "
                 "\"write\"; } }",
                 "read"},
        EvalCase{"@{ string s = \"a\"; if (false) return \"no\"; s = s + \"b\"; return s; }",
                 "ab"}));

struct CompileErrorCase {
  std::string text;
  size_t offset;
  std::string message_part;
};

class ExpressionCompileErrorTest : public ExpressionTest,
                                   public ::testing::WithParamInterface<CompileErrorCase> {};

TEST_P(ExpressionCompileErrorTest, Rejects) {
  size_t offset = 9999;
  std::string message = CompileError(GetParam().text, &offset);
  EXPECT_NE(message.find(GetParam().message_part), std::string::npos)
      << GetParam().text << " -> " << message;
  EXPECT_EQ(offset, GetParam().offset) << GetParam().text << " -> " << message;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ExpressionCompileErrorTest,
    ::testing::Values(
        CompileErrorCase{"@(contxt.Request)", 2, "unknown identifier 'contxt'"},
        CompileErrorCase{"@(context.Requst.Method)", 10, "unknown member 'Requst' of context"},
        CompileErrorCase{"@(context.Request)", 10, "context.Request is not a value"},
        CompileErrorCase{"@(\"a\".Replce(\"a\", \"b\"))", 6, "unknown method 'Replce'"},
        CompileErrorCase{"@(\"a\".Replace(\"a\"))", 6, "takes 2"},
        CompileErrorCase{"@(1 +)", 5, "expected a value"},
        CompileErrorCase{"@(\"abc)", 2, "unterminated string"},
        CompileErrorCase{"@(\"\\q\")", 3, "invalid escape"},
        CompileErrorCase{"@(1 2)", 4, "expected ')'"},
        CompileErrorCase{"@(1) x", 5, "after the end of the expression"},
        CompileErrorCase{"@{ var x = 1; }", 1, "without a return"},
        CompileErrorCase{"@{ return 1; return 2; }", 13, "unreachable"},
        CompileErrorCase{"@{ y = 1; return y; }", 3, "unknown variable 'y'"},
        CompileErrorCase{"@(!\"a\")", 3, "must be a Boolean"},
        CompileErrorCase{"@(((Authorization)context.Variables[\"a\"]).AccesToken)", 42,
                         "Authorization has no member 'AccesToken'"},
        CompileErrorCase{"@(context.Variables.GetValueOrDefault<Foo>(\"a\"))", 38,
                         "unknown type 'Foo'"},
        CompileErrorCase{"(1)", 0, "starts with '@('"}));

TEST_F(ExpressionTest, NullDereferenceFails) {
  context_.variables.erase("auth-context");
  Error error = RuntimeError(
      "@(((Authorization)context.Variables.GetValueOrDefault(\"auth-context\")).AccessToken)");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
  EXPECT_NE(error.message.find("null reference"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, BadCastFails) {
  Error error = RuntimeError("@((Authorization)context.Variables[\"count\"])");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
  EXPECT_NE(error.message.find("invalid cast from Int64 to Authorization"), std::string::npos)
      << error.message;
}

TEST_F(ExpressionTest, MissingVariableIndexerFails) {
  Error error = RuntimeError("@(context.Variables[\"absent\"])");
  EXPECT_NE(error.message.find("'absent' is not present"), std::string::npos) << error.message;
}

// A variable's type is known only at run time, so the compiler cannot check the argument
// count of a String method called on it. Found by fuzz/expression_fuzzer.cc, which read past
// the arguments of Replace.
TEST_F(ExpressionTest, DynamicStringMethodArgumentCountFails) {
  context_.variables["name"] = Value("alice");
  for (const char* text : {"@(context.Variables[\"name\"].Replace(\"a\"))",
                           "@(context.Variables[\"name\"].Substring())",
                           "@(context.Variables[\"name\"].StartsWith())"}) {
    Error error = RuntimeError(text);
    EXPECT_EQ(error.reason, kExpressionFailureReason) << text;
    EXPECT_NE(error.message.find("argument(s), not"), std::string::npos) << error.message;
  }
}

TEST_F(ExpressionTest, LastErrorWithoutErrorFails) {
  Error error = RuntimeError("@(context.LastError.Message)");
  EXPECT_NE(error.message.find("context.LastError is null"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, DivisionByZeroFails) {
  Error error = RuntimeError("@(1 / (context.Response.StatusCode - 200))");
  EXPECT_NE(error.message.find("division by zero"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, SubstringOutOfRangeFails) {
  // start + length does not fit in Int64, so a range check that adds them overflows.
  Error huge_length = RuntimeError("@(\"abc\".Substring(1, 9223372036854775807))");
  EXPECT_NE(huge_length.message.find(
                "start 1 and length 9223372036854775807 fall outside the string of length 3"),
            std::string::npos)
      << huge_length.message;

  // The default length, size - start, does not fit in Int64.
  Error min_start = RuntimeError("@(\"abc\".Substring(-9223372036854775807 - 1))");
  EXPECT_NE(min_start.message.find("start -9223372036854775808 is outside the string of length 3"),
            std::string::npos)
      << min_start.message;

  Error past_end = RuntimeError("@(\"abc\".Substring(4))");
  EXPECT_NE(past_end.message.find("start 4 is outside the string of length 3"), std::string::npos)
      << past_end.message;
  EXPECT_EQ(EvalString("@(\"abc\".Substring(3))"), "");
  EXPECT_EQ(EvalString("@(\"abc\".Substring(1, 2))"), "bc");
}

TEST_F(ExpressionTest, LiteralTemplateIsNotParsed) {
  auto value = CompileValueTemplate("plain @( text");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->is_expression());
  EXPECT_EQ(*value->EvaluateString(context_), "plain @( text");
}

std::string Repeat(std::string_view text, size_t count) {
  std::string repeated;
  for (size_t i = 0; i < count; ++i) repeated += text;
  return repeated;
}

// Each shape at the limit compiles and evaluates, and one level more is rejected with a message
// instead of overflowing the stack. `make(n)` builds the shape with n levels.
struct DepthCase {
  std::string name;
  std::string (*make)(size_t levels);
  std::string value_at_limit;
};

TEST_F(ExpressionTest, NestingBeyondLimitIsRejected) {
  // Each shape makes a tree of height n, or for parentheses n nested levels over one leaf.
  const DepthCase cases[] = {
      {"parentheses", [](size_t n) { return "@(" + Repeat("(", n) + "1" + Repeat(")", n) + ")"; },
       "1"},
      {"operator chain", [](size_t n) { return "@(1" + Repeat(" + 1", n - 1) + ")"; },
       std::to_string(kMaxExpressionDepth)},
      {"unary operators", [](size_t n) { return "@(" + Repeat("!", n - 1) + "true)"; }, "False"},
      {"method chain", [](size_t n) { return "@(\"a\"" + Repeat(".Trim()", n - 1) + ")"; }, "a"},
      {"coalesce", [](size_t n) { return "@(" + Repeat("null ?? ", n - 1) + "1)"; }, "1"},
      {"conditional", [](size_t n) { return "@(" + Repeat("false ? 0 : ", n - 1) + "1)"; }, "1"},
      {"block statements",
       [](size_t n) { return "@{" + Repeat("{", n - 1) + "return 1;" + Repeat("}", n - 1) + "}"; },
       "1"},
  };
  for (const DepthCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto at_limit = CompileExpression(c.make(kMaxExpressionDepth));
    ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
    auto value = (*at_limit)->Evaluate(context_);
    ASSERT_TRUE(value.ok()) << value.error().message;
    EXPECT_EQ(value->ToString(), c.value_at_limit);

    std::string message = CompileError(c.make(kMaxExpressionDepth + 1));
    const std::string expected =
        "nests deeper than " + std::to_string(kMaxExpressionDepth) + " levels";
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
}

TEST_F(ExpressionTest, HostileNestingIsRejected) {
  // About 100 KB each, within the 1 MiB request body limit of the management API.
  const std::string hostile[] = {
      "@(" + Repeat("(", 50'000) + "1" + Repeat(")", 50'000) + ")",
      "@(1" + Repeat("+1", 50'000) + ")",
      "@(" + Repeat("-", 100'000) + "1)",
      "@{" + Repeat("if (true) ", 10'000) + "return 1; }",
  };
  for (const std::string& text : hostile) {
    std::string message = CompileError(text);
    EXPECT_NE(message.find("nests deeper than"), std::string::npos) << message;
  }
}

TEST_F(ExpressionTest, CompiledOnceEvaluatesMany) {
  auto expression = CompileExpression("@(context.Request.Method + context.RequestId)");
  ASSERT_TRUE(expression.ok());
  for (const char* method : {"GET", "POST", "PUT"}) {
    context_.request.method = method;
    auto value = (*expression)->Evaluate(context_);
    ASSERT_TRUE(value.ok());
    EXPECT_EQ(value->AsString(), std::string(method) + "req-1");
  }
}

TEST_F(ExpressionTest, TryGetValueFindsHeader) {
  EXPECT_EQ(EvalString("@{ if (context.Request.Headers.TryGetValue(\"x-multi\", out var v)) "
                       "{ return v; } return \"none\"; }"),
            "one,two");
}

TEST_F(ExpressionTest, TryGetValueMissingKey) {
  EXPECT_EQ(EvalString("@{ var found = context.Variables.TryGetValue(\"absent\", out var v); "
                       "return found + \"|\" + (v == null); }"),
            "False|True");
}

TEST_F(ExpressionTest, TryGetValueOfVariable) {
  EXPECT_EQ(EvalString("@(context.Variables.TryGetValue(\"count\", out var n) ? (int)n + 1 : 0)"),
            "4");
}

}  // namespace
}  // namespace credgate::policy
