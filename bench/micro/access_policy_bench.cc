// The access-policy decision for a (caller, connection) pair: MatchAccessPolicy() on every
// request, as before the decision cache, against a hit in AccessDecisionCache. Then the miss
// that every new caller pays on a connection with 10,000 policies: the linear matcher against
// the hash index of AccessPolicySet.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "credentials/access_policy.h"
#include "credentials/access_policy_cache.h"
#include "credentials/access_policy_set.h"

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

constexpr int kManyPolicies = 10'000;

// One policy per user, each for a distinct object id.
std::vector<AccessPolicy> ManyPolicies() {
  std::vector<AccessPolicy> policies;
  for (int i = 0; i < kManyPolicies; ++i) {
    policies.push_back(AccessPolicy{"policy-" + std::to_string(i),
                                    "72f988bf-86f1-41af-91ab-2d7cd011db47",
                                    "user-" + std::to_string(i), {}});
  }
  return policies;
}

// The users of ManyPolicies() in a shuffled order, each in 20 groups that no policy names, so a
// match reads every caller once and the linear matcher scans half the policies on average.
std::vector<CallerClaims> DistinctCallers() {
  std::vector<CallerClaims> callers;
  for (int i = 0; i < kManyPolicies; ++i) {
    CallerClaims caller = Caller();
    caller.object_id = "user-" + std::to_string((i * 7919) % kManyPolicies);
    callers.push_back(std::move(caller));
  }
  return callers;
}

void BM_DistinctCallers10kPoliciesLinear(benchmark::State& state) {
  const std::vector<AccessPolicy> policies = ManyPolicies();
  const std::vector<CallerClaims> callers = DistinctCallers();
  size_t next = 0;
  for (auto _ : state) {
    const CallerClaims& caller = callers[next++ % callers.size()];
    benchmark::DoNotOptimize(MatchAccessPolicy(caller, policies, "provider/connection"));
  }
}
BENCHMARK(BM_DistinctCallers10kPoliciesLinear);

void BM_DistinctCallers10kPoliciesIndexed(benchmark::State& state) {
  AccessPolicySet set;
  for (AccessPolicy& policy : ManyPolicies()) set.Upsert(std::move(policy));
  const std::vector<CallerClaims> callers = DistinctCallers();
  size_t next = 0;
  for (auto _ : state) {
    const CallerClaims& caller = callers[next++ % callers.size()];
    benchmark::DoNotOptimize(set.Match(caller, "provider/connection"));
  }
}
BENCHMARK(BM_DistinctCallers10kPoliciesIndexed);

// One access-policy PUT on a connection with 10,000 policies: the copy of the policy list that
// the management API made before AccessPolicySet, against an upsert into a copied set.
void BM_PutPolicyOn10kCopy(benchmark::State& state) {
  const std::vector<AccessPolicy> policies = ManyPolicies();
  for (auto _ : state) {
    std::vector<AccessPolicy> copy = policies;
    copy.push_back(AccessPolicy{"new", "tenant", "object", {}});
    benchmark::DoNotOptimize(copy.data());
  }
}
BENCHMARK(BM_PutPolicyOn10kCopy);

void BM_PutPolicyOn10kSet(benchmark::State& state) {
  AccessPolicySet set;
  for (AccessPolicy& policy : ManyPolicies()) set.Upsert(std::move(policy));
  for (auto _ : state) {
    AccessPolicySet copy = set;
    copy.Upsert(AccessPolicy{"new", "tenant", "object", {}});
    benchmark::DoNotOptimize(copy.size());
  }
}
BENCHMARK(BM_PutPolicyOn10kSet);

}  // namespace
}  // namespace credgate::credentials
