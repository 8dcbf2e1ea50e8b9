// Compile-time knowledge of the members and methods of each value type, so that the expression
// compiler rejects a misspelt name before the policy is saved. Internal to the policy module.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/context_fields.h"

namespace credgate::policy::internal {

// Returns the type of member `name` on a value of static type `target`, or nullopt with a
// message in *error naming the members that exist. kAny targets accept any member that some
// type has, and their members are kAny.
std::optional<StaticType> MemberType(StaticType target, std::string_view name, std::string* error);

// Same for a method called with `arg_count` arguments. String targets are checked by the caller
// through FindStringMethod.
std::optional<StaticType> MethodType(StaticType target, std::string_view name, size_t arg_count,
                                     std::string* error);

// Returns the type that a cast or generic argument names: string, int, long, bool, double,
// object, Authorization and their .NET names (String, Int32, Int64, Boolean, Double). nullopt
// for any other name.
std::optional<StaticType> TypeForName(std::string_view name);

// Returns "String", "Int64", "Authorization", ... for messages.
std::string_view StaticTypeName(StaticType type);

}  // namespace credgate::policy::internal
