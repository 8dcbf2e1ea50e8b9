#include "policy/expression_calls.h"

#include <array>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>

#include "common/encoding.h"
#include "common/random.h"
#include "policy/expression_json.h"
#include "policy/expression_jwt.h"
#include "policy/expression_time.h"

namespace credgate::policy::internal {

namespace {

constexpr StaticType kAnyType{};
constexpr StaticType kStringType{StaticKind::kString};
constexpr StaticType kIntType{StaticKind::kInt};
constexpr StaticType kDoubleType{StaticKind::kDouble};
constexpr StaticType kBoolType{StaticKind::kBool};
constexpr StaticType kBytesType{StaticKind::kObject, "Byte[]"};
constexpr StaticType kDateTimeType{StaticKind::kObject, "DateTime"};
constexpr StaticType kTimeSpanType{StaticKind::kObject, "TimeSpan"};
constexpr StaticType kGuidType{StaticKind::kObject, "Guid"};
constexpr StaticType kArrayType{StaticKind::kObject, "Array"};
constexpr StaticType kComparisonType{StaticKind::kObject, "StringComparison"};
constexpr StaticType kJObjectType{StaticKind::kObject, "JObject"};
constexpr StaticType kJArrayType{StaticKind::kObject, "JArray"};
constexpr StaticType kJPropertyType{StaticKind::kObject, "JProperty"};

Error Invalid(const std::string& what) { return MakeError(ErrorCode::kInvalidArgument, what); }

Result<std::string> StringArgument(std::string_view function, const Value& value) {
  if (!value.is_string()) {
    return Invalid(std::string(function) + " expects a String, got " +
                   std::string(value.TypeName()));
  }
  return value.AsString();
}

Result<const std::string*> BytesArgument(std::string_view function, const Value& value) {
  const std::string* bytes = BytesOf(value);
  if (bytes == nullptr) {
    return Invalid(std::string(function) + " expects a Byte[], got " +
                   std::string(value.TypeName()));
  }
  return bytes;
}

std::string_view TrimWhitespace(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// Parses an integer as int.Parse does with the default NumberStyles.Integer: optional
// surrounding whitespace and a leading sign.
std::optional<int64_t> ParseInteger(const Value& value, int64_t min, int64_t max) {
  if (!value.is_string()) return std::nullopt;
  std::string_view text = TrimWhitespace(value.AsString());
  if (text.starts_with('+')) text.remove_prefix(1);
  int64_t parsed = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (parsed < min || parsed > max) return std::nullopt;
  return parsed;
}

std::optional<double> ParseDouble(const Value& value) {
  if (!value.is_string()) return std::nullopt;
  std::string_view text = TrimWhitespace(value.AsString());
  if (text.starts_with('+')) text.remove_prefix(1);
  double parsed = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return parsed;
}

std::optional<bool> ParseBool(const Value& value) {
  if (!value.is_string()) return std::nullopt;
  std::string_view text = TrimWhitespace(value.AsString());
  if (text.size() == 4 && (text == "True" || text == "true" || text == "TRUE")) return true;
  if (text.size() == 5 && (text == "False" || text == "false" || text == "FALSE")) return false;
  return std::nullopt;
}

template <int64_t kMin, int64_t kMax>
Result<Value> IntParse(std::span<const Value> args, Value*) {
  std::optional<int64_t> parsed = ParseInteger(args[0], kMin, kMax);
  if (!parsed) {
    return Invalid("'" + args[0].ToString() + "' is not an integer between " +
                   std::to_string(kMin) + " and " + std::to_string(kMax));
  }
  return Value(*parsed);
}

template <int64_t kMin, int64_t kMax>
Result<Value> IntTryParse(std::span<const Value> args, Value* out) {
  std::optional<int64_t> parsed = ParseInteger(args[0], kMin, kMax);
  *out = Value(parsed.value_or(0));
  return Value(parsed.has_value());
}

Result<Value> DoubleParse(std::span<const Value> args, Value*) {
  std::optional<double> parsed = ParseDouble(args[0]);
  if (!parsed) return Invalid("'" + args[0].ToString() + "' is not a number");
  return Value(*parsed);
}

Result<Value> DoubleTryParse(std::span<const Value> args, Value* out) {
  std::optional<double> parsed = ParseDouble(args[0]);
  *out = Value(parsed.value_or(0.0));
  return Value(parsed.has_value());
}

Result<Value> BoolParse(std::span<const Value> args, Value*) {
  std::optional<bool> parsed = ParseBool(args[0]);
  if (!parsed) return Invalid("'" + args[0].ToString() + "' is not True or False");
  return Value(*parsed);
}

Result<Value> BoolTryParse(std::span<const Value> args, Value* out) {
  std::optional<bool> parsed = ParseBool(args[0]);
  *out = Value(parsed.value_or(false));
  return Value(parsed.has_value());
}

Result<Value> IsNullOrEmpty(std::span<const Value> args, Value*) {
  if (args[0].is_null()) return Value(true);
  auto text = StringArgument("string.IsNullOrEmpty", args[0]);
  if (!text.ok()) return text.error();
  return Value(text->empty());
}

Result<Value> IsNullOrWhiteSpace(std::span<const Value> args, Value*) {
  if (args[0].is_null()) return Value(true);
  auto text = StringArgument("string.IsNullOrWhiteSpace", args[0]);
  if (!text.ok()) return text.error();
  return Value(text->find_first_not_of(" \t\r\n\v\f") == std::string::npos);
}

// string.Join(separator, sequence) or string.Join(separator, a, b, ...).
Result<Value> Join(std::span<const Value> args, Value*) {
  std::string separator = args[0].ToString();
  std::string out;
  auto append = [&](const Value& item, bool first) {
    if (!first) out += separator;
    item.AppendTo(out);
  };
  if (args.size() == 2 && args[1].is_object() && args[1].AsObject().SequenceSize()) {
    const Object& sequence = args[1].AsObject();
    size_t size = *sequence.SequenceSize();
    for (size_t i = 0; i < size; ++i) append(sequence.SequenceItem(i), i == 0);
    return Value(std::move(out));
  }
  for (size_t i = 1; i < args.size(); ++i) append(args[i], i == 1);
  return Value(std::move(out));
}

Result<Value> Concat(std::span<const Value> args, Value*) {
  std::string out;
  for (const auto& arg : args) arg.AppendTo(out);
  return Value(std::move(out));
}

Result<Value> Format(std::span<const Value> args, Value*) {
  if (!args[0].is_string()) return Invalid("string.Format expects a format String");
  const std::string& format = args[0].AsString();
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if ((c == '{' || c == '}') && i + 1 < format.size() && format[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c == '}') return Invalid("string.Format: unmatched '}' in the format");
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = format.find('}', i);
    if (close == std::string::npos) return Invalid("string.Format: unmatched '{' in the format");
    std::string_view item(format.data() + i + 1, close - i - 1);
    size_t colon = item.find(':');
    std::string_view index_text = item.substr(0, colon);
    size_t index = 0;
    auto [ptr, ec] =
        std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
    if (ec != std::errc() || ptr != index_text.data() + index_text.size() ||
        index + 1 >= args.size()) {
      return Invalid("string.Format: '{" + std::string(item) + "}' names no argument");
    }
    auto text =
        FormatArgument(args[index + 1], colon == std::string_view::npos ? std::string_view()
                                                                        : item.substr(colon + 1));
    if (!text.ok()) return text.error();
    out += text->AsString();
    i = close;
  }
  return Value(std::move(out));
}

Result<Value> StringEquals(std::span<const Value> args, Value*) {
  return Value(ValuesEqual(args[0], args[1]) && !args[0].is_object());
}

Result<Value> StringEmpty(std::span<const Value>, Value*) { return Value(std::string()); }

Result<Value> ToBase64String(std::span<const Value> args, Value*) {
  auto bytes = BytesArgument("Convert.ToBase64String", args[0]);
  if (!bytes.ok()) return bytes.error();
  return Value(Base64Encode(**bytes));
}

Result<Value> FromBase64String(std::span<const Value> args, Value*) {
  auto text = StringArgument("Convert.FromBase64String", args[0]);
  if (!text.ok()) return text.error();
  std::optional<std::string> bytes = Base64Decode(*text);
  if (!bytes) return Invalid("Convert.FromBase64String: the input is not valid base64");
  return Value(MakeBytes(std::move(*bytes)));
}

Result<Value> ConvertToInt(std::span<const Value> args, Value*) {
  const Value& value = args[0];
  if (value.is_null()) return Value(0);
  if (value.is_int()) return value;
  if (value.is_bool()) return Value(value.AsBool() ? 1 : 0);
  if (value.is_double()) {
    // Convert.ToInt64 rounds half to even.
    double rounded = std::nearbyint(value.AsDouble());
    if (!std::isfinite(rounded) || std::fabs(rounded) >= 9.2e18) {
      return Invalid("Convert.ToInt64: the value is outside the range of Int64");
    }
    return Value(static_cast<int64_t>(rounded));
  }
  std::array<Value, 1> text{value};
  return IntParse<INT64_MIN, INT64_MAX>(text, nullptr);
}

Result<Value> ConvertToDouble(std::span<const Value> args, Value*) {
  if (args[0].is_number()) return Value(args[0].AsNumber());
  if (args[0].is_null()) return Value(0.0);
  return DoubleParse(args, nullptr);
}

Result<Value> ConvertToBoolean(std::span<const Value> args, Value*) {
  if (args[0].is_bool()) return args[0];
  if (args[0].is_number()) return Value(args[0].AsNumber() != 0);
  if (args[0].is_null()) return Value(false);
  return BoolParse(args, nullptr);
}

Result<Value> ConvertToString(std::span<const Value> args, Value*) {
  return Value(args[0].ToString());
}

Result<Value> Utf8GetBytes(std::span<const Value> args, Value*) {
  auto text = StringArgument("Encoding.UTF8.GetBytes", args[0]);
  if (!text.ok()) return text.error();
  return Value(MakeBytes(std::move(text).value()));
}

// NOTE: .NET replaces invalid UTF-8 sequences with U+FFFD; the bytes are copied unchanged here.
Result<Value> Utf8GetString(std::span<const Value> args, Value*) {
  auto bytes = BytesArgument("Encoding.UTF8.GetString", args[0]);
  if (!bytes.ok()) return bytes.error();
  return Value(**bytes);
}

Result<Value> UtcNow(std::span<const Value>, Value*) {
  return DateTimeFromTimePoint(std::chrono::system_clock::now());
}

Result<Value> MinDateTime(std::span<const Value>, Value*) { return Value(MakeDateTime(0)); }

Result<Value> MaxDateTime(std::span<const Value>, Value*) {
  return Value(MakeDateTime(kMaxDateTimeTicks));
}

Result<Value> DateTimeParse(std::span<const Value> args, Value*) {
  auto text = StringArgument("DateTime.Parse", args[0]);
  if (!text.ok()) return text.error();
  return ParseDateTime(*text);
}

template <int64_t kUnit>
Result<Value> TimeSpanFrom(std::span<const Value> args, Value*) {
  if (!args[0].is_number()) return Invalid("TimeSpan.From... expects a number");
  double ticks = std::round(args[0].AsNumber() * static_cast<double>(kUnit));
  if (!std::isfinite(ticks) || std::fabs(ticks) >= 9.2e18) {
    return Invalid("the TimeSpan is outside the range of TimeSpan");
  }
  return Value(MakeTimeSpan(static_cast<int64_t>(ticks)));
}

Result<Value> TimeSpanZero(std::span<const Value>, Value*) { return Value(MakeTimeSpan(0)); }

// A Guid: ToString() writes the "D" form, ToString("N") the 32 digits alone.
class Guid final : public Object {
 public:
  explicit Guid(std::string digits) : digits_(std::move(digits)) {}

  std::string_view TypeName() const override { return "Guid"; }
  std::string ToString() const override {
    return digits_.substr(0, 8) + "-" + digits_.substr(8, 4) + "-" + digits_.substr(12, 4) + "-" +
           digits_.substr(16, 4) + "-" + digits_.substr(20);
  }
  bool Equals(const Object& other) const override {
    auto* guid = dynamic_cast<const Guid*>(&other);
    return guid != nullptr && guid->digits_ == digits_;
  }
  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    if (name == "ToString" && args.size() == 1 && args[0].is_string()) {
      if (args[0].AsString() == "N" || args[0].AsString() == "n") return Value(digits_);
      if (args[0].AsString() == "D" || args[0].AsString() == "d") return Value(ToString());
      return Invalid("Guid.ToString supports the formats \"D\" and \"N\"");
    }
    return Object::CallMethod(name, args);
  }

 private:
  std::string digits_;  // 32 lowercase hex digits.
};

// Returns a random (version 4) GUID drawn from OpenSSL's CSPRNG.
Result<Value> NewGuid(std::span<const Value>, Value*) {
  static OpenSslRandom random;
  std::array<uint8_t, 16> bytes{};
  random.Fill(bytes);
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string digits;
  for (uint8_t byte : bytes) {
    digits += kHex[byte >> 4];
    digits += kHex[byte & 0x0F];
  }
  return Value(std::make_shared<const Guid>(std::move(digits)));
}

// A member of System.StringComparison, which String.Equals, Contains, StartsWith, EndsWith
// and IndexOf take as their last argument.
class StringComparison final : public Object {
 public:
  explicit StringComparison(std::string_view name) : name_(name) {}
  std::string_view TypeName() const override { return "StringComparison"; }
  std::string ToString() const override { return std::string(name_); }
  bool Equals(const Object& other) const override {
    return other.TypeName() == TypeName() && other.ToString() == name_;
  }

 private:
  std::string_view name_;
};

template <const char* kName>
Result<Value> Comparison(std::span<const Value>, Value*) {
  static const Value value(std::make_shared<const StringComparison>(kName));
  return value;
}

constexpr char kOrdinal[] = "Ordinal";
constexpr char kOrdinalIgnoreCase[] = "OrdinalIgnoreCase";
constexpr char kInvariantCulture[] = "InvariantCulture";
constexpr char kInvariantCultureIgnoreCase[] = "InvariantCultureIgnoreCase";
constexpr char kCurrentCulture[] = "CurrentCulture";
constexpr char kCurrentCultureIgnoreCase[] = "CurrentCultureIgnoreCase";

// A member of System.Text.RegularExpressions.RegexOptions. The expression compiler reads it
// from the call's arguments, so evaluating it only yields its name.
template <const char* kName>
Result<Value> RegexOption(std::span<const Value>, Value*) {
  return Value(std::string_view(kName));
}

constexpr char kNone[] = "None";
constexpr char kIgnoreCase[] = "IgnoreCase";

Result<Value> MathMinMax(std::span<const Value> args, bool max) {
  if (!args[0].is_number() || !args[1].is_number())
    return Invalid("Math.Min and Math.Max expect numbers");
  bool first =
      max ? !(args[0].AsNumber() < args[1].AsNumber()) : !(args[1].AsNumber() < args[0].AsNumber());
  if (args[0].is_int() != args[1].is_int()) {
    return Value(first ? args[0].AsNumber() : args[1].AsNumber());
  }
  return first ? args[0] : args[1];
}

Result<Value> MathMin(std::span<const Value> args, Value*) { return MathMinMax(args, false); }
Result<Value> MathMax(std::span<const Value> args, Value*) { return MathMinMax(args, true); }

Result<Value> MathAbs(std::span<const Value> args, Value*) {
  if (args[0].is_int() && args[0].AsInt() != INT64_MIN)
    return Value(args[0].AsInt() < 0 ? -args[0].AsInt() : args[0].AsInt());
  if (args[0].is_double()) return Value(std::fabs(args[0].AsDouble()));
  return Invalid("Math.Abs expects a number within the range of Int64");
}

// new[] { items }: an array of the items, as String.Split returns one.
Result<Value> NewArray(std::span<const Value> args, Value*) {
  return Value(MakeList(std::vector<Value>(args.begin(), args.end())));
}

constexpr size_t kParams = SIZE_MAX;
constexpr int64_t kInt32Min = INT32_MIN;
constexpr int64_t kInt32Max = INT32_MAX;

constexpr StaticFunction kFunctions[] = {
    {"string.IsNullOrEmpty", false, 1, 1, false, kBoolType, IsNullOrEmpty},
    {"string.IsNullOrWhiteSpace", false, 1, 1, false, kBoolType, IsNullOrWhiteSpace},
    {"string.Join", false, 2, kParams, false, kStringType, Join},
    {"string.Concat", false, 1, kParams, false, kStringType, Concat},
    {"string.Format", false, 1, kParams, false, kStringType, Format},
    {"string.Equals", false, 2, 2, false, kBoolType, StringEquals},
    {"string.Empty", true, 0, 0, false, kStringType, StringEmpty},
    {"int.Parse", false, 1, 1, false, kIntType, IntParse<kInt32Min, kInt32Max>},
    {"int.TryParse", false, 1, 1, true, kBoolType, IntTryParse<kInt32Min, kInt32Max>},
    {"long.Parse", false, 1, 1, false, kIntType, IntParse<INT64_MIN, INT64_MAX>},
    {"long.TryParse", false, 1, 1, true, kBoolType, IntTryParse<INT64_MIN, INT64_MAX>},
    {"double.Parse", false, 1, 1, false, kDoubleType, DoubleParse},
    {"double.TryParse", false, 1, 1, true, kBoolType, DoubleTryParse},
    {"bool.Parse", false, 1, 1, false, kBoolType, BoolParse},
    {"bool.TryParse", false, 1, 1, true, kBoolType, BoolTryParse},
    {"Convert.ToBase64String", false, 1, 1, false, kStringType, ToBase64String},
    {"Convert.FromBase64String", false, 1, 1, false, kBytesType, FromBase64String},
    {"Convert.ToInt32", false, 1, 1, false, kIntType, ConvertToInt},
    {"Convert.ToInt64", false, 1, 1, false, kIntType, ConvertToInt},
    {"Convert.ToDouble", false, 1, 1, false, kDoubleType, ConvertToDouble},
    {"Convert.ToBoolean", false, 1, 1, false, kBoolType, ConvertToBoolean},
    {"Convert.ToString", false, 1, 1, false, kStringType, ConvertToString},
    {"Encoding.UTF8.GetBytes", false, 1, 1, false, kBytesType, Utf8GetBytes},
    {"Encoding.UTF8.GetString", false, 1, 1, false, kStringType, Utf8GetString},
    {"DateTime.UtcNow", true, 0, 0, false, kDateTimeType, UtcNow},
    // NOTE: DateTime.Now returns UTC, because the gateway reads only the UTC clock. .NET returns
    // the host's local time.
    {"DateTime.Now", true, 0, 0, false, kDateTimeType, UtcNow},
    {"DateTime.MinValue", true, 0, 0, false, kDateTimeType, MinDateTime},
    {"DateTime.MaxValue", true, 0, 0, false, kDateTimeType, MaxDateTime},
    {"DateTime.Parse", false, 1, 1, false, kDateTimeType, DateTimeParse},
    {"TimeSpan.FromMilliseconds", false, 1, 1, false, kTimeSpanType, TimeSpanFrom<10'000>},
    {"TimeSpan.FromSeconds", false, 1, 1, false, kTimeSpanType, TimeSpanFrom<kTicksPerSecond>},
    {"TimeSpan.FromMinutes", false, 1, 1, false, kTimeSpanType, TimeSpanFrom<60 * kTicksPerSecond>},
    {"TimeSpan.FromHours", false, 1, 1, false, kTimeSpanType, TimeSpanFrom<3600 * kTicksPerSecond>},
    {"TimeSpan.FromDays", false, 1, 1, false, kTimeSpanType, TimeSpanFrom<86400 * kTicksPerSecond>},
    {"TimeSpan.Zero", true, 0, 0, false, kTimeSpanType, TimeSpanZero},
    {"Guid.NewGuid", false, 0, 0, false, kGuidType, NewGuid},
    // NOTE: the culture members compare as Ordinal, and IgnoreCase folds ASCII letters only.
    {"StringComparison.Ordinal", true, 0, 0, false, kComparisonType, Comparison<kOrdinal>},
    {"StringComparison.OrdinalIgnoreCase", true, 0, 0, false, kComparisonType,
     Comparison<kOrdinalIgnoreCase>},
    {"StringComparison.InvariantCulture", true, 0, 0, false, kComparisonType,
     Comparison<kInvariantCulture>},
    {"StringComparison.InvariantCultureIgnoreCase", true, 0, 0, false, kComparisonType,
     Comparison<kInvariantCultureIgnoreCase>},
    {"StringComparison.CurrentCulture", true, 0, 0, false, kComparisonType,
     Comparison<kCurrentCulture>},
    {"StringComparison.CurrentCultureIgnoreCase", true, 0, 0, false, kComparisonType,
     Comparison<kCurrentCultureIgnoreCase>},
    {"RegexOptions.None", true, 0, 0, false, kStringType, RegexOption<kNone>},
    {"RegexOptions.IgnoreCase", true, 0, 0, false, kStringType, RegexOption<kIgnoreCase>},
    {"Math.Min", false, 2, 2, false, kAnyType, MathMin},
    {"Math.Max", false, 2, 2, false, kAnyType, MathMax},
    {"Math.Abs", false, 1, 1, false, kAnyType, MathAbs},
    // Constructors: `new T(args)` calls "T.new" (expression_parser.cc).
    {"JObject.new", false, 0, kParams, false, kJObjectType, internal::NewJObject},
    {"JArray.new", false, 0, kParams, false, kJArrayType, internal::NewJArray},
    {"JProperty.new", false, 2, 2, false, kJPropertyType, internal::NewJProperty},
    // `new[] { items }` and `new string[] { items }` call "Array.new".
    {"Array.new", false, 0, kParams, false, kArrayType, NewArray},
    {"JObject.Parse", false, 1, 1, false, kJObjectType, internal::JObjectParse},
    {"JArray.Parse", false, 1, 1, false, kJArrayType, internal::JArrayParse},
    {"JToken.Parse", false, 1, 1, false, kAnyType, internal::DeserializeObject},
    {"JsonConvert.SerializeObject", false, 1, 2, false, kStringType, internal::SerializeObject},
    {"JsonConvert.DeserializeObject", false, 1, 1, false, kAnyType, internal::DeserializeObject},
};

std::string_view CanonicalClass(std::string_view name) {
  if (name == "String") return "string";
  if (name == "Int32") return "int";
  if (name == "Int64") return "long";
  if (name == "Double") return "double";
  if (name == "Boolean") return "bool";
  return name;
}

struct LinqEntry {
  std::string_view name;
  LinqMethod method;
  int lambda_arity;
  StaticType result;
};

constexpr LinqEntry kLinqMethods[] = {
    {"Any", LinqMethod::kAny, 1, kBoolType},
    {"All", LinqMethod::kAll, 2, kBoolType},
    {"First", LinqMethod::kFirst, 1, kAnyType},
    {"FirstOrDefault", LinqMethod::kFirstOrDefault, 1, kAnyType},
    {"Last", LinqMethod::kLast, 1, kAnyType},
    {"LastOrDefault", LinqMethod::kLastOrDefault, 1, kAnyType},
    {"Single", LinqMethod::kSingle, 1, kAnyType},
    {"SingleOrDefault", LinqMethod::kSingleOrDefault, 1, kAnyType},
    {"Where", LinqMethod::kWhere, 2, kArrayType},
    {"Select", LinqMethod::kSelect, 2, kArrayType},
    {"Count", LinqMethod::kCount, 1, kIntType},
    {"ToArray", LinqMethod::kToArray, 0, kArrayType},
    {"ToList", LinqMethod::kToArray, 0, kArrayType},
};

const LinqEntry& EntryOf(LinqMethod method) {
  for (const auto& entry : kLinqMethods) {
    if (entry.method == method) return entry;
  }
  return kLinqMethods[0];
}

}  // namespace

Result<Value> FormatArgument(const Value& value, std::string_view format) {
  if (format.empty()) return Value(value.ToString());
  if (value.is_object()) {
    std::array<Value, 1> args{Value(format)};
    return value.AsObject().CallMethod("ToString", args);
  }
  return Invalid("the format '" + std::string(format) + "' applies only to DateTime and Guid");
}

const StaticFunction* FindStaticFunction(std::string_view class_name, std::string_view member) {
  class_name = CanonicalClass(class_name);
  for (const auto& function : kFunctions) {
    std::string_view name = function.name;
    if (name.size() == class_name.size() + 1 + member.size() && name.starts_with(class_name) &&
        name[class_name.size()] == '.' && name.ends_with(member)) {
      return &function;
    }
  }
  return nullptr;
}

bool IsStaticClass(std::string_view name) {
  name = CanonicalClass(name);
  for (const auto& function : kFunctions) {
    std::string_view full = function.name;
    if (full.starts_with(name) && full.size() > name.size() && full[name.size()] == '.') {
      return true;
    }
  }
  return name == "Encoding" || name == "Regex";
}

std::string StaticMembersOf(std::string_view class_name) {
  class_name = CanonicalClass(class_name);
  std::string names;
  for (const auto& function : kFunctions) {
    std::string_view full = function.name;
    if (!full.starts_with(class_name) || full.size() <= class_name.size() ||
        full[class_name.size()] != '.') {
      continue;
    }
    if (!names.empty()) names += ", ";
    names += full.substr(class_name.size() + 1);
  }
  return names;
}

Result<Value> StaticCallNode::Evaluate(EvalFrame& frame) const {
  ArgumentValues args;
  CREDGATE_RETURN_IF_ERROR(EvaluateAll(args_, frame, args));
  Value out;
  auto result = function_.call(args, &out);
  if (!result.ok()) return Fail(result.error().message);
  if (out_slot_) frame.locals[*out_slot_] = std::move(out);
  return result;
}

std::optional<LinqMethod> FindLinqMethod(std::string_view name) {
  for (const auto& entry : kLinqMethods) {
    if (entry.name == name) return entry.method;
  }
  return std::nullopt;
}

StaticType LinqResultType(LinqMethod method) { return EntryOf(method).result; }

int LinqLambdaArity(LinqMethod method) { return EntryOf(method).lambda_arity; }

Result<Value> LinqNode::Evaluate(EvalFrame& frame) const {
  auto target = target_->Evaluate(frame);
  if (!target.ok()) return target;
  if (target->is_null()) {
    if (null_conditional_) return Value();
    return Fail("null reference: cannot call '" + name_ + "' on null; use '?." + name_ +
                "' when the value may be null");
  }
  std::optional<size_t> size =
      target->is_object() ? target->AsObject().SequenceSize() : std::nullopt;
  if (!size) {
    return Fail(std::string(target->TypeName()) + " is not a sequence, so it has no method '" +
                name_ + "'");
  }
  const Object& sequence = target->AsObject();
  const auto* lambda = static_cast<const LambdaNode*>(lambda_.get());

  // Applies the lambda to `item`: the predicate's result or the selected value.
  auto apply = [&](const Value& item) -> Result<Value> {
    frame.locals[lambda->slot()] = item;
    return lambda->body().Evaluate(frame);
  };
  auto matches = [&](const Value& item) -> Result<bool> {
    if (lambda == nullptr) return true;
    auto result = apply(item);
    if (!result.ok()) return result.error();
    return ToCondition(*result, lambda->body());
  };

  std::vector<Value> items;
  int64_t count = 0;
  const bool backwards = method_ == LinqMethod::kLast || method_ == LinqMethod::kLastOrDefault;
  for (size_t n = 0; n < *size; ++n) {
    Value item = sequence.SequenceItem(backwards ? *size - 1 - n : n);
    if (method_ == LinqMethod::kSelect) {
      auto selected = apply(item);
      if (!selected.ok()) return selected;
      items.push_back(std::move(selected).value());
      continue;
    }
    auto match = matches(item);
    if (!match.ok()) return match.error();
    switch (method_) {
      case LinqMethod::kAny:
        if (*match) return Value(true);
        break;
      case LinqMethod::kAll:
        if (!*match) return Value(false);
        break;
      case LinqMethod::kFirst:
      case LinqMethod::kFirstOrDefault:
      case LinqMethod::kLast:
      case LinqMethod::kLastOrDefault:
        if (*match) return item;
        break;
      case LinqMethod::kCount:
        count += *match ? 1 : 0;
        break;
      case LinqMethod::kSingle:
      case LinqMethod::kSingleOrDefault:
        if (*match && ++count > 1) {
          return Fail("more than one item of the sequence matches '" + name_ + "'");
        }
        if (*match) items.push_back(std::move(item));
        break;
      default:
        if (*match) items.push_back(std::move(item));
        break;
    }
  }
  switch (method_) {
    case LinqMethod::kAny:
      return Value(false);
    case LinqMethod::kAll:
      return Value(true);
    case LinqMethod::kFirst:
    case LinqMethod::kLast:
      return Fail(lambda == nullptr
                      ? "the sequence is empty, so '" + name_ + "' has no result"
                      : "no item of the sequence matches the predicate of '" + name_ + "'");
    case LinqMethod::kFirstOrDefault:
    case LinqMethod::kLastOrDefault:
      return Value();
    case LinqMethod::kCount:
      return Value(count);
    case LinqMethod::kSingle:
      if (items.empty()) {
        return Fail("no item of the sequence matches '" + name_ + "', which needs exactly one");
      }
      return items[0];
    case LinqMethod::kSingleOrDefault:
      return items.empty() ? Value() : items[0];
    default:
      return Value(MakeList(std::move(items)));
  }
}

Result<Value> TryParseJwtNode::Evaluate(EvalFrame& frame) const {
  auto target = target_->Evaluate(frame);
  if (!target.ok()) return target;
  if (target->is_null() && null_conditional_) return Value();
  if (!target->is_string()) {
    return Fail("TryParseJwt expects a String, got " + std::string(target->TypeName()));
  }
  std::shared_ptr<const Object> jwt = ParseJwtObject(target->AsString());
  bool parsed = jwt != nullptr;
  frame.locals[slot_] = parsed ? Value(std::move(jwt)) : Value();
  return Value(parsed);
}

Result<Value> TryGetValueNode::Evaluate(EvalFrame& frame) const {
  auto target = target_->Evaluate(frame);
  if (!target.ok()) return target;
  if (target->is_null() && null_conditional_) return Value();
  if (!target->is_object()) {
    return Fail("TryGetValue needs a dictionary, got " + std::string(target->TypeName()));
  }
  auto key = key_->Evaluate(frame);
  if (!key.ok()) return key;
  std::array<Value, 1> args{std::move(key).value()};
  auto contains = target->AsObject().CallMethod("ContainsKey", args);
  if (!contains.ok()) return Fail(contains.error().message);
  if (!contains->is_bool() || !contains->AsBool()) {
    frame.locals[slot_] = Value();
    return Value(false);
  }
  auto value = target->AsObject().CallMethod(kIndexerMethod, args);
  if (!value.ok()) return Fail(value.error().message);
  if (split_values_ && value->is_string()) {
    frame.locals[slot_] = Value(MakeList(SplitFieldValues(value->AsString())));
  } else {
    frame.locals[slot_] = std::move(value).value();
  }
  return Value(true);
}

std::vector<Value> SplitFieldValues(std::string_view text) {
  std::vector<Value> values;
  auto add = [&](std::string_view element) {
    size_t start = element.find_first_not_of(" \t");
    if (start == std::string_view::npos) return;
    size_t end = element.find_last_not_of(" \t");
    values.emplace_back(element.substr(start, end - start + 1));
  };
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (quoted && text[i] == '\\') {
      ++i;  // A quoted-pair: the next character is literal.
    } else if (text[i] == '"') {
      quoted = !quoted;
    } else if (text[i] == ',' && !quoted) {
      add(text.substr(start, i - start));
      start = i + 1;
    }
  }
  add(text.substr(start));
  return values;
}

Result<Value> BodyNode::Evaluate(EvalFrame& frame) const {
  const std::string& body = response_ ? frame.context.response.body : frame.context.request.body;
  Result<Value> result = Value();
  switch (format_) {
    case BodyFormat::kString:
      return Value(body);
    case BodyFormat::kJObject:
      result = ParseJsonBody(body, /*want_array=*/false);
      break;
    case BodyFormat::kJArray:
      result = ParseJsonBody(body, /*want_array=*/true);
      break;
    case BodyFormat::kJToken:
      result = ParseJsonToken(body);
      break;
  }
  if (!result.ok()) return Fail(result.error().message);
  return result;
}

}  // namespace credgate::policy::internal
