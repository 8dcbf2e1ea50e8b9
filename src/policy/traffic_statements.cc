#include "policy/traffic_statements.h"

#include <cstdio>

#include "policy/limit_counters.h"
#include "policy/value_cache.h"
#include "policy/window_counters.h"

namespace credgate::policy::internal {

namespace {

StatementOutcome ExpressionFailure(const Error& error) {
  return {false, StatementFailure{500, std::string(kExpressionFailureReason), error.message}};
}

// Formats seconds as APIM's quota message does: hh:mm:ss.
std::string Clock(int64_t seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%02lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  return text;
}

// The 403 of quota-by-key, with APIM's message: `exhausted` and, unless the quota never renews,
// the time until it does. Like APIM's, the response has no Retry-After field.
StatementOutcome QuotaExceeded(std::string_view exhausted, std::chrono::seconds period,
                               std::chrono::seconds retry_after) {
  std::string message(exhausted);
  if (period.count() > 0) {
    message += " Quota will be replenished in " + Clock(retry_after.count()) + ".";
  }
  return {false, StatementFailure{403, "QuotaExceeded", std::move(message)}};
}

}  // namespace

StatementOutcome ApplyRateLimit(const RateLimitSpec& spec, PolicyContext& context, TimePoint now) {
  auto key = spec.counter_key.EvaluateString(context);
  if (!key.ok()) return ExpressionFailure(key.error());
  bool count = true;
  if (spec.increment_condition) {
    auto condition = spec.increment_condition->Evaluate(context);
    if (!condition.ok()) return ExpressionFailure(condition.error());
    if (!condition->is_bool()) {
      return ExpressionFailure(MakeError(
          ErrorCode::kInvalidArgument, "increment-condition returned " +
                                           std::string(condition->TypeName()) + ", not a Boolean"));
    }
    count = condition->AsBool();
  }
  const TimePoint origin = spec.quota ? spec.first_period_start : TimePoint{};
  // The bandwidth is checked first, so a call it rejects is not counted. A bandwidth counter at
  // or above its limit rejects: a limit of n bytes with an increment of 1 that is only checked.
  if (spec.bandwidth_bytes > 0) {
    WindowDecision bytes = spec.byte_counters->Consume(*key, spec.bandwidth_bytes, 1,
                                                       spec.renewal_period, origin, now, false);
    if (!bytes.allowed) {
      TrafficLimitCounters().bandwidth_exhausted.fetch_add(1, std::memory_order_relaxed);
      return QuotaExceeded("Out of bandwidth quota.", spec.renewal_period, bytes.retry_after);
    }
  }
  WindowDecision decision;
  if (spec.calls > 0) {
    decision = spec.counters->Consume(*key, spec.calls, spec.increment_count, spec.renewal_period,
                                      origin, now, count);
  }
  if (decision.allowed && count && spec.bandwidth_bytes > 0) {
    context.bandwidth_charges.push_back(
        BandwidthCharge{spec.byte_counters, *key, spec.renewal_period, origin, now});
  }

  HeaderMap& headers = context.added_response_headers;
  if (!spec.remaining_calls_header_name.empty()) {
    headers.Set(spec.remaining_calls_header_name, std::to_string(decision.remaining));
  }
  if (!spec.remaining_calls_variable_name.empty()) {
    context.variables[spec.remaining_calls_variable_name] = Value(decision.remaining);
  }
  if (!spec.total_calls_header_name.empty()) {
    headers.Set(spec.total_calls_header_name, std::to_string(spec.calls));
  }
  if (decision.allowed) return {};

  if (spec.quota) {
    TrafficLimitCounters().calls_exhausted.fetch_add(1, std::memory_order_relaxed);
    return QuotaExceeded("Out of call volume quota.", spec.renewal_period, decision.retry_after);
  }
  TrafficLimitCounters().rate_limited.fetch_add(1, std::memory_order_relaxed);
  const int64_t retry = decision.retry_after.count();
  // RFC 9110 §10.2.3: Retry-After in seconds.
  headers.Set(spec.retry_after_header_name.empty() ? "Retry-After" : spec.retry_after_header_name,
              std::to_string(retry));
  if (!spec.retry_after_variable_name.empty()) {
    context.variables[spec.retry_after_variable_name] = Value(retry);
  }
  return {false, StatementFailure{429, "RateLimitExceeded",
                                  "Rate limit is exceeded. Try again in " + std::to_string(retry) +
                                      " seconds."}};
}

StatementOutcome ApplyCacheValue(const CacheValueSpec& spec, PolicyContext& context,
                                 TimePoint now) {
  auto key = spec.key.EvaluateString(context);
  if (!key.ok()) return ExpressionFailure(key.error());
  switch (spec.command) {
    case CacheCommand::kLookup: {
      std::optional<Value> found = spec.cache->Find(*key, now);
      if (found) {
        context.variables[spec.variable_name] = std::move(*found);
      } else if (spec.default_value) {
        auto fallback = spec.default_value->Evaluate(context);
        if (!fallback.ok()) return ExpressionFailure(fallback.error());
        context.variables[spec.variable_name] = std::move(fallback).value();
      }
      return {};
    }
    case CacheCommand::kStore: {
      auto value = spec.value->Evaluate(context);
      if (!value.ok()) return ExpressionFailure(value.error());
      auto duration = spec.duration->Evaluate(context);
      if (!duration.ok()) return ExpressionFailure(duration.error());
      int64_t seconds = 0;
      if (duration->is_int()) {
        seconds = duration->AsInt();
      } else if (duration->is_string()) {
        seconds = std::strtoll(duration->AsString().c_str(), nullptr, 10);
      }
      if (seconds <= 0) {
        return ExpressionFailure(MakeError(ErrorCode::kInvalidArgument,
                                           "cache-store-value duration '" + duration->ToString() +
                                               "' is not a positive number of seconds"));
      }
      spec.cache->Store(*key, std::move(value).value(), std::chrono::seconds(seconds), now);
      return {};
    }
    case CacheCommand::kRemove:
      spec.cache->Remove(*key);
      return {};
  }
  return {};
}

}  // namespace credgate::policy::internal
