// The two expressions of a typical credential-injection policy, evaluated against a request
// context: the identity attribute of get-authorization-context and the set-header value.
#include <benchmark/benchmark.h>

#include <string>

#include "policy/context.h"
#include "policy/expression.h"

namespace credgate::policy {
namespace {

PolicyContext RequestContext() {
  PolicyContext context;
  context.request.method = "GET";
  context.request.path = "/bench/whoami";
  context.request.headers.Append("Host", "gateway.example.com");
  context.request.headers.Append("Accept", "application/json");
  context.request.headers.Append("Authorization", "Bearer " + std::string(900, 'x'));
  context.variables.emplace("auth-context", Value(MakeAuthorization(std::string(1200, 'y'),
                                                                    Entries{})));
  return context;
}

void Evaluate(benchmark::State& state, std::string_view text) {
  auto compiled = CompileValueTemplate(text);
  if (!compiled.ok()) {
    state.SkipWithError(compiled.error().message.c_str());
    return;
  }
  const PolicyContext context = RequestContext();
  for (auto _ : state) benchmark::DoNotOptimize(compiled->EvaluateString(context));
}

void BM_ExpressionSetHeaderValue(benchmark::State& state) {
  Evaluate(state,
           "@(\"Bearer \" + ((Authorization)context.Variables.GetValueOrDefault(\"auth-context\"))"
           "?.AccessToken)");
}
BENCHMARK(BM_ExpressionSetHeaderValue);

void BM_ExpressionIdentityFromHeader(benchmark::State& state) {
  Evaluate(state,
           "@(context.Request.Headers.GetValueOrDefault(\"Authorization\",\"\")"
           ".Replace(\"Bearer \",\"\"))");
}
BENCHMARK(BM_ExpressionIdentityFromHeader);

void BM_LiteralValue(benchmark::State& state) { Evaluate(state, "application/json"); }
BENCHMARK(BM_LiteralValue);

}  // namespace
}  // namespace credgate::policy
