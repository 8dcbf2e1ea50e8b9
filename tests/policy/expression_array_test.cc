// string[] locals, `out string[]` with TryGetValue, and array declarations in @{ ... } blocks.
#include <gtest/gtest.h>

#include <string>

#include "expression_fixture.h"

namespace credgate::policy {
namespace {

struct ArrayCase {
  std::string text;
  std::string expected;  // Value::ToString() of the result.
};

class ArrayLocalTest : public ExpressionTest, public ::testing::WithParamInterface<ArrayCase> {
 protected:
  ArrayLocalTest() {
    context_.request.headers.Append("Accept", "text/html, application/json;q=0.9");
    context_.request.headers.Append("X-Quoted", R"("a,b", c)");
    context_.response.headers.Append("Via", "1.1 one");
    context_.response.headers.Append("Via", "1.1 two");
  }
};

TEST_P(ArrayLocalTest, Evaluates) {
  EXPECT_EQ(EvalString(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ArrayLocalTest,
    ::testing::Values(
        ArrayCase{R"(@{ string[] parts = "a,b,c".Split(','); return parts.Length; })", "3"},
        ArrayCase{R"(@{ string[] parts = "a,b,c".Split(','); return parts[2]; })", "c"},
        ArrayCase{R"(@{ string[] parts = "x-y".Split('-'); return string.Join("+", parts); })",
                  "x+y"},
        ArrayCase{
            R"(@{ string[] values; if (context.Request.Headers.TryGetValue("Accept", out values)) { return values[1]; } return "none"; })",
            "application/json;q=0.9"},
        ArrayCase{
            R"(@(context.Request.Headers.TryGetValue("accept", out string[] v) ? v.Length : -1))",
            "2"},
        ArrayCase{
            R"(@{ context.Request.Headers.TryGetValue("X-Multi", out string[] v); return string.Join("|", v); })",
            "one|two"},
        ArrayCase{
            R"(@{ context.Request.Headers.TryGetValue("X-Quoted", out string[] v); return v[0] + "|" + v[1]; })",
            R"("a,b"|c)"},
        ArrayCase{
            R"(@{ context.Response.Headers.TryGetValue("Via", out string[] v); return v.Last(); })",
            "1.1 two"},
        ArrayCase{
            R"(@(context.Request.Headers.TryGetValue("Absent", out string[] v) ? "yes" : "no"))",
            "no"},
        ArrayCase{
            R"(@{ context.Request.Url.Query.TryGetValue("tag", out string[] tags); return tags.Count(); })",
            "2"},
        ArrayCase{
            R"(@{ string[] v = new[] { "p", "q" }; var s = ""; foreach (var x in v) { s += x; } return s; })",
            "pq"},
        ArrayCase{R"(@{ string name; name = "late"; return name; })", "late"},
        ArrayCase{
            R"(@{ string[] accepted; context.Request.Headers.TryGetValue("Accept", out accepted); return new JObject { ["all"] = new JArray(accepted), { "first", accepted[0] } }.ToString(); })",
            R"({"all":["text/html","application/json;q=0.9"],"first":"text/html"})"},
        ArrayCase{R"(@{ string[] none; return none == null; })", "True"}),
    [](const auto& info) { return "Case" + std::to_string(info.index); });

TEST_F(ExpressionTest, OutUndeclaredVariableRejected) {
  std::string error =
      CompileError(R"(@(context.Request.Headers.TryGetValue("a", out values) ? "y" : "n"))");
  EXPECT_NE(error.find("unknown variable 'values' as the out argument"), std::string::npos)
      << error;
}

TEST_F(ExpressionTest, ArrayDeclarationTwiceRejected) {
  std::string error = CompileError(R"(@{ string[] a; string[] a; return 1; })");
  EXPECT_NE(error.find("the variable 'a' is already declared"), std::string::npos) << error;
}

}  // namespace
}  // namespace credgate::policy
