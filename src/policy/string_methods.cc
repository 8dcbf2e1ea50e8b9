#include "policy/string_methods.h"

#include <algorithm>
#include <vector>

#include "policy/expression_jwt.h"
#include "policy/text.h"

namespace credgate::policy::internal {

namespace {

constexpr StaticType kStringType{StaticKind::kString};
constexpr StaticType kBoolType{StaticKind::kBool};
constexpr StaticType kIntType{StaticKind::kInt};
constexpr StaticType kArrayType{StaticKind::kObject, "Array"};

constexpr StringMethodInfo kMethods[] = {
    {StringMethod::kReplace, "Replace", 2, 2, kStringType},
    {StringMethod::kSplit, "Split", 1, 8, kArrayType},
    {StringMethod::kSubstring, "Substring", 1, 2, kStringType},
    {StringMethod::kContains, "Contains", 1, 2, kBoolType},
    {StringMethod::kStartsWith, "StartsWith", 1, 2, kBoolType},
    {StringMethod::kEndsWith, "EndsWith", 1, 2, kBoolType},
    {StringMethod::kToLower, "ToLower", 0, 0, kStringType},
    {StringMethod::kToLower, "ToLowerInvariant", 0, 0, kStringType},
    {StringMethod::kToUpper, "ToUpper", 0, 0, kStringType},
    {StringMethod::kToUpper, "ToUpperInvariant", 0, 0, kStringType},
    {StringMethod::kTrim, "Trim", 0, 1, kStringType},
    {StringMethod::kTrimStart, "TrimStart", 0, 1, kStringType},
    {StringMethod::kTrimEnd, "TrimEnd", 0, 1, kStringType},
    {StringMethod::kIndexOf, "IndexOf", 1, 3, kIntType},
    {StringMethod::kLastIndexOf, "LastIndexOf", 1, 1, kIntType},
    {StringMethod::kToString, "ToString", 0, 0, kStringType},
    {StringMethod::kEquals, "Equals", 1, 2, kBoolType},
    {StringMethod::kAsJwt, "AsJwt", 0, 0, {StaticKind::kObject, "Jwt"}},
    {StringMethod::kAsBasic, "AsBasic", 0, 0, {StaticKind::kObject, "BasicAuthCredentials"}},
};

constexpr std::string_view kWhitespace = " \t\r\n\v\f";

Error ArgumentError(std::string_view method, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument, "String." + std::string(method) + ": " + what);
}

Result<int64_t> IntArgument(std::string_view method, const Value& value) {
  if (!value.is_int()) {
    return ArgumentError(method,
                         "expected an integer argument, got " + std::string(value.TypeName()));
  }
  return value.AsInt();
}

std::string Trim(std::string_view text, std::string_view chars, bool start, bool end) {
  size_t first = start ? text.find_first_not_of(chars) : 0;
  if (first == std::string_view::npos) return "";
  size_t last = end ? text.find_last_not_of(chars) : text.size() - 1;
  return std::string(text.substr(first, last - first + 1));
}

// Returns whether the last argument is StringComparison.OrdinalIgnoreCase or another
// IgnoreCase member, and drops it from `args`. Case folding is ASCII only.
bool TakeIgnoreCase(std::span<const Value>& args) {
  if (args.empty() || !args.back().is_object() ||
      args.back().AsObject().TypeName() != "StringComparison") {
    return false;
  }
  bool ignore_case = args.back().AsObject().ToString().ends_with("IgnoreCase");
  args = args.first(args.size() - 1);
  return ignore_case;
}

std::string_view FindNameOf(StringMethod method) {
  for (const auto& info : kMethods) {
    if (info.method == method) return info.name;
  }
  return "String";
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

}  // namespace

const StringMethodInfo* FindStringMethod(std::string_view name) {
  for (const auto& info : kMethods) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string StringMethodNames() {
  std::string names = "Length";
  for (const auto& info : kMethods) names += ", " + std::string(info.name);
  return names;
}

namespace {

Result<Value> CallExact(StringMethod method, const std::string& target,
                        std::span<const Value> args) {
  switch (method) {
    case StringMethod::kReplace: {
      if (args[0].is_null() || args[0].ToString().empty()) {
        return ArgumentError("Replace", "the string to replace must not be null or empty");
      }
      std::string from = args[0].ToString();
      std::string to = args[1].ToString();
      std::string out;
      out.reserve(target.size());
      size_t start = 0;
      for (size_t found; (found = target.find(from, start)) != std::string::npos;) {
        out.append(target, start, found - start);
        out += to;
        start = found + from.size();
      }
      out.append(target, start);
      return Value(std::move(out));
    }
    case StringMethod::kSplit: {
      std::vector<std::string> separators;
      for (const auto& arg : args) separators.push_back(arg.ToString());
      std::vector<Value> parts;
      size_t start = 0;
      for (size_t i = 0; i <= target.size();) {
        auto match = std::find_if(separators.begin(), separators.end(), [&](const auto& s) {
          return !s.empty() && target.compare(i, s.size(), s) == 0;
        });
        if (i == target.size() || match != separators.end()) {
          parts.emplace_back(target.substr(start, i - start));
          if (i == target.size()) break;
          i += match->size();
          start = i;
        } else {
          ++i;
        }
      }
      return Value(MakeList(std::move(parts)));
    }
    case StringMethod::kSubstring: {
      auto start = IntArgument("Substring", args[0]);
      if (!start.ok()) return start.error();
      const int64_t size = static_cast<int64_t>(target.size());
      if (*start < 0 || *start > size) {
        return ArgumentError("Substring", "start " + std::to_string(*start) +
                                              " is outside the string of length " +
                                              std::to_string(size));
      }
      int64_t length = size - *start;
      if (args.size() == 2) {
        auto given = IntArgument("Substring", args[1]);
        if (!given.ok()) return given.error();
        length = *given;
        // Compared with size - start, because start + length can overflow Int64.
        if (length < 0 || length > size - *start) {
          return ArgumentError("Substring", "start " + std::to_string(*start) + " and length " +
                                                std::to_string(length) +
                                                " fall outside the string of length " +
                                                std::to_string(size));
        }
      }
      return Value(target.substr(static_cast<size_t>(*start), static_cast<size_t>(length)));
    }
    case StringMethod::kContains:
      return Value(target.find(args[0].ToString()) != std::string::npos);
    case StringMethod::kStartsWith:
      return Value(target.starts_with(args[0].ToString()));
    case StringMethod::kEndsWith:
      return Value(target.ends_with(args[0].ToString()));
    case StringMethod::kToLower:
    case StringMethod::kToUpper: {
      std::string out = target;
      for (char& c : out) {
        if (method == StringMethod::kToLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (method == StringMethod::kToUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
      return Value(std::move(out));
    }
    case StringMethod::kTrim:
    case StringMethod::kTrimStart:
    case StringMethod::kTrimEnd: {
      std::string chars = args.empty() ? std::string(kWhitespace) : args[0].ToString();
      return Value(Trim(target, chars, method != StringMethod::kTrimEnd,
                        method != StringMethod::kTrimStart));
    }
    case StringMethod::kIndexOf:
    case StringMethod::kLastIndexOf: {
      std::string needle = args[0].ToString();
      size_t from = 0;
      if (args.size() == 2) {
        auto start = IntArgument("IndexOf", args[1]);
        if (!start.ok()) return start.error();
        if (*start < 0 || *start > static_cast<int64_t>(target.size())) {
          return ArgumentError("IndexOf", "start " + std::to_string(*start) +
                                              " is outside the string of length " +
                                              std::to_string(target.size()));
        }
        from = static_cast<size_t>(*start);
      }
      size_t found =
          method == StringMethod::kIndexOf ? target.find(needle, from) : target.rfind(needle);
      return Value(found == std::string::npos ? int64_t{-1} : static_cast<int64_t>(found));
    }
    case StringMethod::kToString:
      return Value(target);
    case StringMethod::kEquals:
      return Value(args[0].is_string() && args[0].AsString() == target);
    case StringMethod::kAsJwt: {
      std::shared_ptr<const Object> jwt = ParseJwtObject(target);
      return jwt ? Value(std::move(jwt)) : Value();
    }
    case StringMethod::kAsBasic: {
      std::shared_ptr<const Object> credentials = ParseBasicCredentials(target);
      return credentials ? Value(std::move(credentials)) : Value();
    }
  }
  return Value();
}

}  // namespace

Result<Value> CallStringMethod(StringMethod method, const std::string& target,
                               std::span<const Value> args) {
  const bool comparing = method == StringMethod::kContains || method == StringMethod::kStartsWith ||
                         method == StringMethod::kEndsWith || method == StringMethod::kEquals ||
                         method == StringMethod::kIndexOf;
  if (!comparing) return CallExact(method, target, args);

  const bool ignore_case = TakeIgnoreCase(args);
  const size_t max_args = method == StringMethod::kIndexOf ? 2 : 1;
  if (args.size() > max_args) {
    return ArgumentError(FindNameOf(method), "the last argument must be a StringComparison");
  }
  if (!ignore_case) return CallExact(method, target, args);

  // Ignoring case compares lowercased copies of the target and the searched text.
  std::vector<Value> lowered(args.begin(), args.end());
  if (lowered[0].is_string()) lowered[0] = Value(Lower(lowered[0].AsString()));
  return CallExact(method, Lower(target), lowered);
}

}  // namespace credgate::policy::internal
