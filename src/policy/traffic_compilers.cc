#include "policy/traffic_compilers.h"

#include <cstdio>
#include <ctime>

#include "policy/value_cache.h"
#include "policy/window_counters.h"

namespace credgate::policy::internal {

namespace {

#define TRAFFIC_ASSIGN_OR_RETURN(name, expr)             \
  auto name##_result = (expr);                           \
  if (!name##_result.ok()) return name##_result.error(); \
  auto name = std::move(name##_result).value()

// Upper bound on the keys one rate-limit-by-key or quota-by-key statement counts.
constexpr size_t kMaxCounterKeys = 100'000;
constexpr int64_t kMaxCalls = int64_t{1} << 40;
// 2^40 KiB is 1 PiB, and its bytes still fit in int64_t.
constexpr int64_t kMaxBandwidthKilobytes = int64_t{1} << 40;
constexpr int64_t kMaxPeriodSeconds = int64_t{10} * 365 * 86'400;

// Parses "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339 in UTC, without fractions).
std::optional<TimePoint> ParseUtc(std::string_view text) {
  std::tm tm{};
  char zone = 0;
  if (text.size() != 20 ||
      std::sscanf(std::string(text).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &zone) != 7 ||
      zone != 'Z') {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t seconds = timegm(&tm);
  if (seconds == static_cast<time_t>(-1)) return std::nullopt;
  return FromUnixSeconds(seconds);
}

// caching-type: "internal" and "prefer-external" use the internal cache; "external" is rejected.
Status CheckCachingType(const ElementReader& element) {
  auto type = element.Attribute("caching-type");
  if (!type || *type == "internal" || *type == "prefer-external") return OkStatus();
  if (*type == "external") {
    return element.FailAt("caching-type",
                          "caching-type=\"external\" is not supported, because "
                          "credgate has only its internal cache");
  }
  return element.FailAt("caching-type", "invalid value '" + std::string(*type) +
                                            "' for attribute 'caching-type'; use internal or "
                                            "prefer-external");
}

Result<Statement> CompileLimit(const ElementReader& element, bool quota) {
  if (quota) {
    CREDGATE_RETURN_IF_ERROR(
        element.CheckAttributes({"calls", "bandwidth", "renewal-period", "counter-key",
                                 "increment-condition", "increment-count", "first-period-start"}));
  } else {
    CREDGATE_RETURN_IF_ERROR(element.CheckAttributes(
        {"calls", "renewal-period", "counter-key", "increment-condition", "increment-count",
         "retry-after-header-name", "retry-after-variable-name", "remaining-calls-header-name",
         "remaining-calls-variable-name", "total-calls-header-name"}));
  }
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  RateLimitSpec spec;
  spec.quota = quota;
  if (quota) {
    // quota-by-key takes calls, bandwidth or both.
    if (!element.Attribute("calls") && !element.Attribute("bandwidth")) {
      return element.Fail("<quota-by-key> requires attribute 'calls', 'bandwidth' or both");
    }
    TRAFFIC_ASSIGN_OR_RETURN(calls, element.IntegerAttribute("calls", 0, 1, kMaxCalls));
    spec.calls = calls;
    TRAFFIC_ASSIGN_OR_RETURN(kilobytes,
                             element.IntegerAttribute("bandwidth", 0, 1, kMaxBandwidthKilobytes));
    spec.bandwidth_bytes = kilobytes * 1024;
  } else {
    TRAFFIC_ASSIGN_OR_RETURN(calls, element.RequiredIntegerAttribute("calls", 1, kMaxCalls));
    spec.calls = calls;
  }
  TRAFFIC_ASSIGN_OR_RETURN(
      period, element.RequiredIntegerAttribute("renewal-period", quota ? 0 : 1, kMaxPeriodSeconds));
  spec.renewal_period = std::chrono::seconds(period);
  TRAFFIC_ASSIGN_OR_RETURN(key, element.RequiredTemplateAttribute("counter-key"));
  spec.counter_key = std::move(key);
  if (element.Attribute("increment-condition")) {
    TRAFFIC_ASSIGN_OR_RETURN(condition, element.ExpressionAttribute("increment-condition"));
    spec.increment_condition = std::move(condition);
  }
  TRAFFIC_ASSIGN_OR_RETURN(increment, element.IntegerAttribute("increment-count", 1, 1, kMaxCalls));
  spec.increment_count = increment;
  auto name = [&](std::string_view attribute) {
    return std::string(element.Attribute(attribute).value_or(""));
  };
  spec.retry_after_header_name = name("retry-after-header-name");
  spec.retry_after_variable_name = name("retry-after-variable-name");
  spec.remaining_calls_header_name = name("remaining-calls-header-name");
  spec.remaining_calls_variable_name = name("remaining-calls-variable-name");
  spec.total_calls_header_name = name("total-calls-header-name");
  if (auto start = element.Attribute("first-period-start")) {
    std::optional<TimePoint> parsed = ParseUtc(*start);
    if (!parsed) {
      return element.FailAt("first-period-start", "invalid value '" + std::string(*start) +
                                                      "' for attribute 'first-period-start'; use "
                                                      "a UTC time such as 2024-01-01T00:00:00Z");
    }
    spec.first_period_start = *parsed;
  }
  spec.counters = std::make_shared<WindowCounters>(kMaxCounterKeys);
  if (spec.bandwidth_bytes > 0) {
    spec.byte_counters = std::make_shared<WindowCounters>(kMaxCounterKeys);
  }
  return element.NewStatement(std::move(spec));
}

}  // namespace

Result<Statement> CompileRateLimitByKey(const ElementReader& element, const std::string&) {
  return CompileLimit(element, /*quota=*/false);
}

Result<Statement> CompileQuotaByKey(const ElementReader& element, const std::string&) {
  return CompileLimit(element, /*quota=*/true);
}

Result<Statement> CompileCacheLookupValue(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(
      element.CheckAttributes({"key", "variable-name", "default-value", "caching-type"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  CacheValueSpec spec;
  spec.command = CacheCommand::kLookup;
  TRAFFIC_ASSIGN_OR_RETURN(key, element.RequiredTemplateAttribute("key"));
  spec.key = std::move(key);
  TRAFFIC_ASSIGN_OR_RETURN(variable, element.RequiredAttribute("variable-name"));
  spec.variable_name = std::move(variable);
  TRAFFIC_ASSIGN_OR_RETURN(fallback, element.TemplateAttribute("default-value"));
  spec.default_value = std::move(fallback);
  CREDGATE_RETURN_IF_ERROR(CheckCachingType(element));
  spec.cache = ProcessValueCache();
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileCacheStoreValue(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"key", "value", "duration", "caching-type"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  CacheValueSpec spec;
  spec.command = CacheCommand::kStore;
  TRAFFIC_ASSIGN_OR_RETURN(key, element.RequiredTemplateAttribute("key"));
  spec.key = std::move(key);
  if (!element.Attribute("value")) {
    return element.Fail("missing required attribute 'value' on <cache-store-value>");
  }
  TRAFFIC_ASSIGN_OR_RETURN(value, element.TemplateAttribute("value"));
  spec.value = std::move(value);
  TRAFFIC_ASSIGN_OR_RETURN(duration, element.RequiredTemplateAttribute("duration"));
  if (!duration.is_expression()) {
    auto checked = element.IntegerAttribute("duration", 0, 1, kMaxPeriodSeconds);
    if (!checked.ok()) return checked.error();
  }
  spec.duration = std::move(duration);
  CREDGATE_RETURN_IF_ERROR(CheckCachingType(element));
  spec.cache = ProcessValueCache();
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileCacheRemoveValue(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"key", "caching-type"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  CacheValueSpec spec;
  spec.command = CacheCommand::kRemove;
  TRAFFIC_ASSIGN_OR_RETURN(key, element.RequiredTemplateAttribute("key"));
  spec.key = std::move(key);
  CREDGATE_RETURN_IF_ERROR(CheckCachingType(element));
  spec.cache = ProcessValueCache();
  return element.NewStatement(std::move(spec));
}

}  // namespace credgate::policy::internal
