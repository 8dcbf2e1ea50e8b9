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
};

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

  bool any = target.kind == StaticKind::kAny;
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
  if (name == "Authorization") return StaticType{StaticKind::kObject, "Authorization"};
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
