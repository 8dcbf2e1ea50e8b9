// new JObject(...), new JArray(...), new JProperty(...), JObject.Parse and JsonConvert in
// policy expressions.
#include <gtest/gtest.h>

#include <string>

#include "expression_fixture.h"

namespace credgate::policy {
namespace {

struct JsonCase {
  std::string text;
  std::string expected;  // Value::ToString() of the result.
};

class JsonConstructTest : public ExpressionTest, public ::testing::WithParamInterface<JsonCase> {};

TEST_P(JsonConstructTest, Evaluates) {
  EXPECT_EQ(EvalString(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonConstructTest,
    ::testing::Values(
        JsonCase{"@(new JObject().ToString())", "{}"},
        JsonCase{R"(@(new JObject(new JProperty("a", 1), new JProperty("b", "x")).ToString()))",
                 R"({"a":1,"b":"x"})"},
        JsonCase{R"(@{ var o = new JObject(); o["n"] = 2; o["s"] = "t"; return o.ToString(); })",
                 R"({"n":2,"s":"t"})"},
        JsonCase{R"(@(new JArray(1, "two", true).ToString()))", R"([1,"two",true])"},
        JsonCase{R"(@(new JArray("a,b".Split(',')).ToString()))", R"(["a","b"])"},
        JsonCase{R"(@(new JProperty("k", 5).Name))", "k"},
        JsonCase{R"(@(JObject.Parse("{\"a\":{\"b\":3}}")["a"]["b"]))", "3"},
        JsonCase{R"(@(JArray.Parse("[1,2,3]").Count))", "3"},
        JsonCase{R"(@(JsonConvert.SerializeObject("q\"x")))", R"("q\"x")"},
        JsonCase{R"(@(JsonConvert.SerializeObject(new JObject(new JProperty("a", 1.5)))))",
                 R"({"a":1.5})"},
        JsonCase{R"(@(((JObject)JsonConvert.DeserializeObject("{\"z\":true}"))["z"]))", "True"},
        JsonCase{R"(@(new JObject(JObject.Parse("{\"a\":1}"), new JProperty("b", 2)).ToString()))",
                 R"({"a":1,"b":2})"},
        // Object and collection initializers.
        JsonCase{R"(@(new JObject { {"a", 1}, ["b"] = "x" }.ToString()))", R"({"a":1,"b":"x"})"},
        JsonCase{R"(@(new JObject() { ["n"] = context.Request.Method, }.ToString()))",
                 R"({"n":"GET"})"},
        JsonCase{R"(@(new JObject(new JProperty("a", 1)) { {"b", 2} }.ToString()))",
                 R"({"a":1,"b":2})"},
        JsonCase{
            R"(@(new JObject { ["inner"] = new JObject { ["k"] = new JArray { 1 } } }.ToString()))",
            R"({"inner":{"k":[1]}})"},
        JsonCase{R"(@(new JObject { }.ToString()))", "{}"},
        JsonCase{R"(@(new JArray { 1, "two" }.ToString()))", R"([1,"two"])"},
        JsonCase{R"(@(new JArray() { true }.Count))", "1"},
        JsonCase{R"(@(new[] { "current", "hourly" }.Length))", "2"},
        JsonCase{R"(@(new string[] { "a", "b" }[1]))", "b"},
        JsonCase{R"(@(new JArray(new[] { 1, 2 }).ToString()))", "[1,2]"},
        JsonCase{
            R"(@{ var n = 0; foreach (var key in new [] {"a", "b", "c"}) { n += key.Length; } return n; })",
            "3"},
        JsonCase{R"(@(new List<string> { "x", "y" }[1]))", "y"},
        JsonCase{R"(@(new List<int>() { 1, 2, 3 }.Count()))", "3"},
        JsonCase{R"(@(new List<string>().Count()))", "0"},
        JsonCase{R"(@(string.Join(",", new List<string> { "a", "b" })))", "a,b"}),
    [](const auto& info) { return "Case" + std::to_string(info.index); });

TEST_F(JsonConstructTest, RejectsAtCompile) {
  EXPECT_NE(CompileError("@(new StringBuilder())").find("'new StringBuilder' is not supported"),
            std::string::npos);
  EXPECT_NE(CompileError(R"(@(new JObject { "a" }))")
                .find("expected { name, value } or [name] = value in the JObject initializer"),
            std::string::npos);
  EXPECT_NE(CompileError(R"(@(new JProperty("a", 1) { }))")
                .find("new JProperty(name, value) takes no initializer"),
            std::string::npos);
  EXPECT_NE(CompileError("@(new string[2])").find("an array size is not supported"),
            std::string::npos);
  EXPECT_NE(CompileError("@(new List<Widget>())").find("'new List<Widget>' is not supported"),
            std::string::npos);
  EXPECT_NE(CompileError("@(new List<string>)").find("expected '(' or '{'"), std::string::npos);
  EXPECT_NE(CompileError(R"(@(new JObject { ["a"] 1 }))").find("expected '='"), std::string::npos);
  EXPECT_NE(CompileError(R"(@(new JProperty("a")))").find("new JProperty takes 2 argument(s)"),
            std::string::npos);
}

TEST_F(JsonConstructTest, JObjectOfStringFails) {
  EXPECT_NE(RuntimeError(R"(@(new JObject("x")))").message.find("new JObject(...) takes JProperty values"),
            std::string::npos);
}

}  // namespace
}  // namespace credgate::policy
