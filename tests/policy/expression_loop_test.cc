// for and while loops, ++, -- and -= in @{ ... } blocks, and the iteration limit.
#include <gtest/gtest.h>

#include <string>

#include "expression_fixture.h"

namespace credgate::policy {
namespace {

struct LoopCase {
  std::string text;
  std::string expected;  // Value::ToString() of the result.
};

class LoopTest : public ExpressionTest, public ::testing::WithParamInterface<LoopCase> {};

TEST_P(LoopTest, Evaluates) {
  EXPECT_EQ(EvalString(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LoopTest,
    ::testing::Values(
        LoopCase{"@{ var sum = 0; for (var i = 1; i <= 4; i++) { sum += i; } return sum; }", "10"},
        LoopCase{"@{ var n = 10; while (n > 3) { n -= 3; } return n; }", "1"},
        LoopCase{"@{ var s = \"\"; for (var i = 3; i > 0; i--) s = s + i; return s; }", "321"},
        LoopCase{"@{ var i = 0; for (; i < 5;) { i++; } return i; }", "5"},
        LoopCase{"@{ var a = 0; var b = 0; for (a = 0; a < 3; a++, b += 2) { } return b; }", "6"},
        LoopCase{"@{ for (var i = 0; i < 10; i++) { if (i == 4) { return i; } } return -1; }",
                 "4"},
        LoopCase{"@{ var parts = \"a,b,c\".Split(','); var s = \"\"; "
                 "for (var i = parts.Length - 1; i >= 0; i--) { s += parts[i]; } return s; }",
                 "cba"},
        LoopCase{"@{ var n = 0; while (false) { n++; } return n; }", "0"}),
    [](const auto& info) { return "Case" + std::to_string(info.index); });

TEST_F(LoopTest, EndlessLoopFails) {
  Error error = RuntimeError("@{ var n = 0; while (true) { n++; } return n; }");
  EXPECT_NE(error.message.find("the loops ran more than 100000 times"), std::string::npos)
      << error.message;
  EXPECT_EQ(error.reason, "ExpressionValueEvaluationFailure");
}

TEST_F(LoopTest, NestedLoopsShareTheLimit) {
  Error error = RuntimeError(
      "@{ var n = 0; for (var i = 0; i < 1000; i++) { for (var j = 0; j < 1000; j++) { n++; } } "
      "return n; }");
  EXPECT_NE(error.message.find("the loops ran more than"), std::string::npos) << error.message;
}

TEST_F(LoopTest, RejectsAtCompile) {
  EXPECT_NE(CompileError("@{ while (true) { break; } return 1; }").find("'break' is not supported"),
            std::string::npos);
  EXPECT_NE(CompileError("@{ while (\"x\") { } return 1; }")
                .find("a while condition must be a Boolean"),
            std::string::npos);
  EXPECT_NE(CompileError("@{ for (var i = 0; i < 3; i++) { } return i; }")
                .find("unknown identifier 'i'"),
            std::string::npos);
  EXPECT_NE(CompileError("@{ for (var i = 0; i < 3; x++) { } return 1; }")
                .find("unknown variable 'x'"),
            std::string::npos);
}

}  // namespace
}  // namespace credgate::policy
