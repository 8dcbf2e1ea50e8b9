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
                 R"({"a":1,"b":2})"}),
    [](const auto& info) { return "Case" + std::to_string(info.index); });

TEST_F(JsonConstructTest, RejectsAtCompile) {
  EXPECT_NE(CompileError("@(new StringBuilder())").find("'new StringBuilder' is not supported"),
            std::string::npos);
  EXPECT_NE(CompileError("@(new JObject { })").find("initializers are not supported"),
            std::string::npos);
  EXPECT_NE(CompileError(R"(@(new JProperty("a")))").find("new JProperty takes 2 argument(s)"),
            std::string::npos);
}

TEST_F(JsonConstructTest, JObjectOfStringFails) {
  EXPECT_NE(RuntimeError(R"(@(new JObject("x")))").message.find("new JObject(...) takes JProperty values"),
            std::string::npos);
}

}  // namespace
}  // namespace credgate::policy
