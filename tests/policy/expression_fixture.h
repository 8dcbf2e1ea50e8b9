// The fixture of the expression tests: a request context like the one a gateway builds for
// "GET https://api.example.com:8443/orders/42?page=2&tag=a&tag=b", with verbs that compile and
// evaluate an expression against it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "policy/context.h"
#include "policy/expression.h"
#include "policy/value.h"

namespace credgate::policy {

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() {
    context_.request.method = "GET";
    context_.request.scheme = "https";
    context_.request.host = "api.example.com";
    context_.request.port = 8443;
    context_.request.path = "/orders/42";
    context_.request.query_string = "page=2&tag=a&tag=b";
    context_.request.headers.Append("Authorization", "Bearer abc.def");
    context_.request.headers.Append("X-Multi", "one");
    context_.request.headers.Append("x-multi", "two");
    context_.request.ip_address = "127.0.0.1";
    context_.request.matched_parameters = {{"id", "42"}};
    context_.request_id = "req-1";
    context_.api = {"orders-api", "Orders", "orders"};
    context_.operation = {"get-order", "Get order", "GET", "/orders/{id}"};
    context_.variables["auth-context"] =
        Value(MakeAuthorization("token-1", Entries{{"sub", Value("alice")}}));
    context_.variables["count"] = Value(3);
  }

  // Compiles and evaluates `text`; fails the test when either step fails.
  Value Eval(const std::string& text) {
    auto expression = CompileExpression(text);
    EXPECT_TRUE(expression.ok()) << text << ": " << expression.error().message;
    if (!expression.ok()) return Value();
    auto value = (*expression)->Evaluate(context_);
    EXPECT_TRUE(value.ok()) << text << ": " << value.error().message;
    return value.ok() ? *value : Value();
  }

  std::string EvalString(const std::string& text) { return Eval(text).ToString(); }

  // Returns the compile error message of `text`, or "" when it compiles.
  std::string CompileError(const std::string& text, size_t* offset = nullptr) {
    auto expression = CompileExpression(text, offset);
    return expression.ok() ? "" : expression.error().message;
  }

  // Returns the runtime error of `text`, which must compile.
  Error RuntimeError(const std::string& text) {
    auto expression = CompileExpression(text);
    EXPECT_TRUE(expression.ok()) << expression.error().message;
    if (!expression.ok()) return {};
    auto value = (*expression)->Evaluate(context_);
    EXPECT_FALSE(value.ok()) << text << " evaluated to " << value->ToString();
    return value.ok() ? Error{} : value.error();
  }

  PolicyContext context_;
};

}  // namespace credgate::policy
