#include "policy/static_types.h"

#include "policy/string_methods.h"

namespace credgate::policy::internal {

namespace {

constexpr StaticType kAnyType{};
constexpr StaticType kStringType{StaticKind::kString};
constexpr StaticType kIntType{StaticKind::kInt};
constexpr StaticType kBoolType{StaticKind::kBool};
constexpr StaticType kDictionaryType{StaticKind::kObject, "IReadOnlyDictionary"};
constexpr StaticType kArrayType{StaticKind::kObject, "Array"};
constexpr StaticType kDoubleType{StaticKind::kDouble};
constexpr StaticType kDateTimeType{StaticKind::kObject, "DateTime"};
constexpr StaticType kTimeSpanType{StaticKind::kObject, "TimeSpan"};
constexpr StaticType kClaimsType{StaticKind::kObject, "Claims"};

struct MemberInfo {
  std::string_view owner;  // Object type name.
  std::string_view name;
  bool is_method;
  size_t min_args;
  size_t max_args;
  StaticType type;
};

constexpr MemberInfo kMembers[] = {
    {"Authorization", "AccessToken", false, 0, 0, kStringType},
    {"Authorization", "Claims", false, 0, 0, kDictionaryType},
    {"IReadOnlyDictionary", "Count", false, 0, 0, kIntType},
    {"IReadOnlyDictionary", "Keys", false, 0, 0, kArrayType},
    {"IReadOnlyDictionary", "GetValueOrDefault", true, 1, 2, kAnyType},
    {"IReadOnlyDictionary", "ContainsKey", true, 1, 1, kBoolType},
    {"Array", "Length", false, 0, 0, kIntType},
    {"Array", "Count", false, 0, 0, kIntType},
    {"Array", "Contains", true, 1, 1, kBoolType},
    {"KeyValuePair", "Key", false, 0, 0, kStringType},
    {"KeyValuePair", "Value", false, 0, 0, kAnyType},
    {"Byte[]", "Length", false, 0, 0, kIntType},
    {"Jwt", "Algorithm", false, 0, 0, kStringType},
    {"Jwt", "Type", false, 0, 0, kStringType},
    {"Jwt", "Id", false, 0, 0, kStringType},
    {"Jwt", "Issuer", false, 0, 0, kStringType},
    {"Jwt", "Subject", false, 0, 0, kStringType},
    {"Jwt", "Audiences", false, 0, 0, kArrayType},
    {"Jwt", "Claims", false, 0, 0, kClaimsType},
    {"Jwt", "ExpirationTime", false, 0, 0, kDateTimeType},
    {"Jwt", "NotBefore", false, 0, 0, kDateTimeType},
    {"Jwt", "IssuedAt", false, 0, 0, kDateTimeType},
    {"Claims", "Count", false, 0, 0, kIntType},
    {"Claims", "Keys", false, 0, 0, kArrayType},
    {"Claims", "GetValueOrDefault", true, 1, 2, kAnyType},
    {"Claims", "ContainsKey", true, 1, 1, kBoolType},
    {"BasicAuthCredentials", "Username", false, 0, 0, kStringType},
    {"BasicAuthCredentials", "Password", false, 0, 0, kStringType},
    {"DateTime", "Year", false, 0, 0, kIntType},
    {"DateTime", "Month", false, 0, 0, kIntType},
    {"DateTime", "Day", false, 0, 0, kIntType},
    {"DateTime", "Hour", false, 0, 0, kIntType},
    {"DateTime", "Minute", false, 0, 0, kIntType},
    {"DateTime", "Second", false, 0, 0, kIntType},
    {"DateTime", "Millisecond", false, 0, 0, kIntType},
    {"DateTime", "Ticks", false, 0, 0, kIntType},
    {"DateTime", "DayOfWeek", false, 0, 0, kStringType},
    {"DateTime", "Date", false, 0, 0, kDateTimeType},
    {"DateTime", "TimeOfDay", false, 0, 0, kTimeSpanType},
    {"DateTime", "AddMilliseconds", true, 1, 1, kDateTimeType},
    {"DateTime", "AddSeconds", true, 1, 1, kDateTimeType},
    {"DateTime", "AddMinutes", true, 1, 1, kDateTimeType},
    {"DateTime", "AddHours", true, 1, 1, kDateTimeType},
    {"DateTime", "AddDays", true, 1, 1, kDateTimeType},
    {"DateTime", "AddTicks", true, 1, 1, kDateTimeType},
    {"DateTime", "Add", true, 1, 1, kDateTimeType},
    {"DateTime", "Subtract", true, 1, 1, kAnyType},
    {"DateTime", "ToUniversalTime", true, 0, 0, kDateTimeType},
    {"DateTime", "ToString", true, 0, 1, kStringType},
    {"TimeSpan", "Ticks", false, 0, 0, kIntType},
    {"TimeSpan", "Days", false, 0, 0, kIntType},
    {"TimeSpan", "Hours", false, 0, 0, kIntType},
    {"TimeSpan", "Minutes", false, 0, 0, kIntType},
    {"TimeSpan", "Seconds", false, 0, 0, kIntType},
    {"TimeSpan", "Milliseconds", false, 0, 0, kIntType},
    {"TimeSpan", "TotalDays", false, 0, 0, kDoubleType},
    {"TimeSpan", "TotalHours", false, 0, 0, kDoubleType},
    {"TimeSpan", "TotalMinutes", false, 0, 0, kDoubleType},
    {"TimeSpan", "TotalSeconds", false, 0, 0, kDoubleType},
    {"TimeSpan", "TotalMilliseconds", false, 0, 0, kDoubleType},
    {"Guid", "ToString", true, 0, 1, kStringType},
    {"JObject", "Count", false, 0, 0, kIntType},
    {"JObject", "HasValues", false, 0, 0, kBoolType},
    {"JObject", "Value", true, 1, 1, kAnyType},
    {"JObject", "GetValue", true, 1, 1, kAnyType},
    {"JObject", "ContainsKey", true, 1, 1, kBoolType},
    {"JObject", "SelectToken", true, 1, 1, kAnyType},
    {"JArray", "SelectToken", true, 1, 1, kAnyType},
    {"JObject", "Remove", true, 1, 1, kBoolType},
    {"JObject", "Add", true, 2, 2, kAnyType},
    {"JObject", "Property", true, 1, 1, {StaticKind::kObject, "JProperty"}},
    {"JArray", "Count", false, 0, 0, kIntType},
    {"JArray", "HasValues", false, 0, 0, kBoolType},
    {"JArray", "Value", true, 1, 1, kAnyType},
    {"JArray", "Add", true, 1, 1, kAnyType},
    {"JArray", "Contains", true, 1, 1, kBoolType},
    {"JArray", "RemoveAt", true, 1, 1, kAnyType},
    {"JProperty", "Name", false, 0, 0, kStringType},
    {"JProperty", "Value", false, 0, 0, kAnyType},
    {"JProperty", "Remove", true, 0, 0, kAnyType},
    {"IResponse", "StatusCode", false, 0, 0, kIntType},
    {"IResponse", "StatusReason", false, 0, 0, kStringType},
    {"IResponse", "Headers", false, 0, 0, kDictionaryType},
    {"IResponse", "Body", false, 0, 0, {StaticKind::kObject, "MessageBody"}},
    {"MessageBody", "As", true, 1, 2, kAnyType},
    {"Match", "Success", false, 0, 0, kBoolType},
    {"Match", "Value", false, 0, 0, kStringType},
    {"Match", "Index", false, 0, 0, kIntType},
    {"Match", "Length", false, 0, 0, kIntType},
    {"Match", "Groups", false, 0, 0, {StaticKind::kObject, "GroupCollection"}},
    {"GroupCollection", "Count", false, 0, 0, kIntType},
    {"Group", "Success", false, 0, 0, kBoolType},
    {"Group", "Value", false, 0, 0, kStringType},
    {"Group", "Index", false, 0, 0, kIntType},
    {"Group", "Length", false, 0, 0, kIntType},
    {"Subscription", "Id", false, 0, 0, kStringType},
    {"Subscription", "Key", false, 0, 0, kStringType},
    {"Subscription", "Name", false, 0, 0, kStringType},
    {"Subscription", "PrimaryKey", false, 0, 0, kStringType},
    {"Subscription", "SecondaryKey", false, 0, 0, kStringType},
    {"User", "Id", false, 0, 0, kStringType},
    {"User", "Email", false, 0, 0, kStringType},
    {"User", "FirstName", false, 0, 0, kStringType},
    {"User", "LastName", false, 0, 0, kStringType},
    {"Product", "Id", false, 0, 0, kStringType},
    {"Product", "Name", false, 0, 0, kStringType},
};

// Object types whose members the compiler does not check, because the value may be any of
// several types (JToken is a JObject, a JArray or a plain value).
bool IsOpenType(std::string_view type) { return type == "JToken" || type == "JContainer"; }

std::string NamesOf(std::string_view owner, bool methods) {
  std::string names;
  for (const auto& member : kMembers) {
    if (member.owner != owner || member.is_method != methods) continue;
    if (!names.empty()) names += ", ";
    names += member.name;
  }
  if (methods) names += names.empty() ? "ToString" : ", ToString";
  return names.empty() ? "none" : names;
}

std::optional<StaticType> Lookup(StaticType target, std::string_view name, bool method,
                                 size_t arg_count, std::string* error) {
  const char* kind = method ? "method" : "member";
  if (method && name == "ToString" && arg_count == 0) return kStringType;
  if (target.kind == StaticKind::kString && !method && name == "Length") return kIntType;

  bool any = target.kind == StaticKind::kAny ||
             (target.kind == StaticKind::kObject && IsOpenType(target.object_type));
  for (const auto& member : kMembers) {
    if (member.name != name || member.is_method != method) continue;
    if (!any && member.owner != target.object_type) continue;
    if (method && (arg_count < member.min_args || arg_count > member.max_args)) {
      *error = std::string(member.owner) + "." + std::string(name) + " takes " +
               std::to_string(member.min_args) +
               (member.max_args != member.min_args ? " or " + std::to_string(member.max_args)
                                                   : std::string()) +
               " argument(s), not " + std::to_string(arg_count);
      return std::nullopt;
    }
    return any ? kAnyType : member.type;
  }
  if (any && !method && name == "Length") return kAnyType;
  if (any && method && FindStringMethod(name) != nullptr) return kAnyType;

  if (any) {
    *error =
        std::string("unknown ") + kind + " '" + std::string(name) + "'; no supported type has it";
  } else if (target.kind == StaticKind::kObject) {
    *error = std::string(StaticTypeName(target)) + " has no " + kind + " '" + std::string(name) +
             "'; its " + kind + "s are: " + NamesOf(target.object_type, method);
  } else {
    *error =
        std::string(StaticTypeName(target)) + " has no " + kind + " '" + std::string(name) + "'";
  }
  return std::nullopt;
}

}  // namespace

std::optional<StaticType> MemberType(StaticType target, std::string_view name, std::string* error) {
  return Lookup(target, name, /*method=*/false, 0, error);
}

std::optional<StaticType> MethodType(StaticType target, std::string_view name, size_t arg_count,
                                     std::string* error) {
  return Lookup(target, name, /*method=*/true, arg_count, error);
}

std::optional<StaticType> TypeForName(std::string_view name) {
  if (name == "string" || name == "String") return kStringType;
  if (name == "int" || name == "long" || name == "Int32" || name == "Int64") return kIntType;
  if (name == "bool" || name == "Boolean") return kBoolType;
  if (name == "double" || name == "Double") return StaticType{StaticKind::kDouble};
  if (name == "object" || name == "Object") return kAnyType;
  static constexpr std::string_view kObjectTypes[] = {
      "Authorization", "Jwt",    "BasicAuthCredentials", "DateTime",  "TimeSpan", "JObject",
      "JArray",        "JToken", "JContainer",           "JProperty", "Guid",     "Byte[]",
      "IResponse"};
  for (std::string_view type : kObjectTypes) {
    if (name == type) return StaticType{StaticKind::kObject, type};
  }
  return std::nullopt;
}

std::string_view StaticTypeName(StaticType type) {
  switch (type.kind) {
    case StaticKind::kAny:
      return "object";
    case StaticKind::kNull:
      return "null";
    case StaticKind::kBool:
      return "Boolean";
    case StaticKind::kInt:
      return "Int64";
    case StaticKind::kDouble:
      return "Double";
    case StaticKind::kString:
      return "String";
    case StaticKind::kObject:
      return type.object_type;
  }
  return "object";
}

}  // namespace credgate::policy::internal
