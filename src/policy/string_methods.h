// The System.String methods that policy expressions may call, resolved by name at compile
// time. Internal to the policy module. Indexes and lengths count bytes of UTF-8.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/context_fields.h"
#include "policy/value.h"

namespace credgate::policy::internal {

enum class StringMethod {
  kReplace,
  kSplit,
  kSubstring,
  kContains,
  kStartsWith,
  kEndsWith,
  kToLower,
  kToUpper,
  kTrim,
  kTrimStart,
  kTrimEnd,
  kIndexOf,
  kLastIndexOf,
  kToString,
  kEquals,
  kAsJwt,
  kAsBasic,
};

struct StringMethodInfo {
  StringMethod method;
  std::string_view name;
  size_t min_args;
  size_t max_args;
  StaticType result;
};

// Returns the method named `name`, or nullptr. ToLowerInvariant and ToUpperInvariant resolve to
// ToLower and ToUpper, which are the same for ASCII.
const StringMethodInfo* FindStringMethod(std::string_view name);
// Returns the method names separated by ", ", for messages.
std::string StringMethodNames();

// Calls `method` on `target`. Errors: kInvalidArgument for an argument of the wrong type or an
// index outside the string.
Result<Value> CallStringMethod(StringMethod method, const std::string& target,
                               std::span<const Value> args);

}  // namespace credgate::policy::internal
