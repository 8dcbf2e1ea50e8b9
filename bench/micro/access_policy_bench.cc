// The access-policy decision for a (caller, connection) pair: MatchAccessPolicy() on every
// request, as before the decision cache, against a hit in AccessDecisionCache.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "credentials/access_policy.h"
#include "credentials/access_policy_cache.h"

namespace credgate::credentials {
namespace {

// A caller in 20 groups on a connection with 10 policies, allowed by the last one.
CallerClaims Caller() {
  CallerClaims caller;
  caller.object_id = "11111111-1111-4111-8111-111111111111";
  caller.tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  caller.app_id = "00000000-0000-0000-0000-00000000a990";
  for (int i = 0; i < 20; ++i) caller.groups.push_back("group-" + std::to_string(i));
  return caller;
}

std::vector<AccessPolicy> Policies() {
  std::vector<AccessPolicy> policies;
  for (int i = 0; i < 10; ++i) {
    policies.push_back(AccessPolicy{"policy-" + std::to_string(i),
                                    "72f988bf-86f1-41af-91ab-2d7cd011db47",
                                    "other-object-" + std::to_string(i), {}});
  }
  policies.back().object_id = "GROUP-19";
  return policies;
}

void BM_AccessDecisionUncached(benchmark::State& state) {
  const CallerClaims caller = Caller();
  const std::vector<AccessPolicy> policies = Policies();
  for (auto _ : state) {
    // The gateway copies the caller's claims out of its identity before each match.
    CallerClaims copy = caller;
    benchmark::DoNotOptimize(MatchAccessPolicy(copy, policies, "provider/connection"));
  }
}
BENCHMARK(BM_AccessDecisionUncached);

void BM_AccessDecisionCached(benchmark::State& state) {
  AccessDecisionCache cache(10'000);
  std::shared_ptr<const void> caller = std::make_shared<const CallerClaims>(Caller());
  std::shared_ptr<const void> connection =
      std::make_shared<const std::vector<AccessPolicy>>(Policies());
  cache.RememberAllowed(caller, connection);
  for (auto _ : state) benchmark::DoNotOptimize(cache.Allowed(caller, connection));
}
BENCHMARK(BM_AccessDecisionCached);

}  // namespace
}  // namespace credgate::credentials
