// Fuzzes the policy expression lexer, parser and compiler, and evaluates every expression that
// compiles against a request context like the one in tests/policy/expression_test.cc.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/context.h"
#include "policy/expression.h"
#include "policy/value.h"

namespace {

using namespace credgate::policy;

PolicyContext MakeContext() {
  PolicyContext context;
  context.request.method = "GET";
  context.request.scheme = "https";
  context.request.host = "api.example.com";
  context.request.port = 8443;
  context.request.path = "/orders/42";
  context.request.query_string = "page=2&tag=a&tag=b";
  context.request.headers.Append("Authorization", "Bearer abc.def");
  context.request.headers.Append("X-Multi", "one");
  context.request.headers.Append("x-multi", "two");
  context.request.body = R"({"name":"value"})";
  context.request.ip_address = "127.0.0.1";
  context.request.matched_parameters = {{"id", "42"}};
  context.request_id = "req-1";
  context.api = {"orders-api", "Orders", "orders"};
  context.operation = {"get-order", "Get order", "GET", "/orders/{id}"};
  context.variables["auth-context"] =
      Value(MakeAuthorization("token-1", Entries{{"sub", Value("alice")}}));
  context.variables["count"] = Value(3);
  context.variables["name"] = Value("alice");
  context.response.headers.Append("Content-Type", "application/json");
  context.last_error = LastErrorState{"set-header", "Reason", "message", "api", "inbound",
                                      "set-header[1]", ""};
  return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const PolicyContext context = MakeContext();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  size_t error_offset = 0;
  auto expression = CompileExpression(text, &error_offset);
  if (!expression.ok()) {
    // The offset points into `text`, or just past its end for an unexpected end of input.
    if (error_offset > text.size()) __builtin_trap();
    return 0;
  }
  auto value = (*expression)->Evaluate(context);
  if (value.ok()) (void)value->ToString();
  return 0;
}
