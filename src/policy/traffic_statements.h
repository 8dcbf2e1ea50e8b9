// Execution of rate-limit-by-key, quota-by-key and the cache-*-value statements. Internal to
// the policy module.
#pragma once

#include "common/clock.h"
#include "policy/context.h"
#include "policy/request_statements.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

// Counts the call under the evaluated counter key. Over the limit: rate-limit-by-key fails with
// 429 (reason "RateLimitExceeded") and a Retry-After field, quota-by-key with 403 (reason
// "QuotaExceeded"). The optional header names are added to the caller's response and the
// variable names set in context.Variables. A quota-by-key bandwidth fails the call when the
// key's bytes have reached it, and otherwise records a BandwidthCharge in the context, whose
// bytes the gateway adds after the response (policy/bandwidth.h).
StatementOutcome ApplyRateLimit(const RateLimitSpec& spec, PolicyContext& context, TimePoint now);
StatementOutcome ApplyCacheValue(const CacheValueSpec& spec, PolicyContext& context, TimePoint now);

}  // namespace credgate::policy::internal
