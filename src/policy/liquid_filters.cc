// The Liquid number, array and date filters of APIM's set-body, in PascalCase, and the lookup of
// every filter by name. Each follows DotLiquid's behavior where it differs from Ruby Liquid.
// docs/policies.md lists the remaining differences.
#include "policy/liquid_filters.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "policy/expression_time.h"
#include "policy/liquid_nodes.h"
#include "policy/liquid_template.h"

namespace credgate::policy::liquid {

namespace json = boost::json;

std::string ArgText(Args args, size_t index, std::string_view fallback) {
  return index < args.size() ? ToText(args[index]) : std::string(fallback);
}

Error FilterError(std::string_view filter, const std::string& message) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "Liquid filter " + std::string(filter) + ": " + message);
}

Error TooLong(std::string_view filter) {
  return FilterError(filter, "the result exceeds " + std::to_string(kMaxRenderBytes) + " bytes");
}

int64_t IntegerArgument(const json::value& value, int64_t fallback) {
  std::optional<double> number = ToNumber(value);
  if (!number || std::isnan(*number)) return fallback;
  return static_cast<int64_t>(std::clamp(*number, -1e15, 1e15));
}

namespace {

bool IsInteger(const json::value& value) {
  if (value.is_int64()) return true;
  if (!value.is_string()) return false;
  std::string_view text = value.get_string();
  if (text.starts_with('-')) text.remove_prefix(1);
  return !text.empty() && text.size() < 19 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t IntegerOf(const json::value& value) {
  return value.is_int64() ? value.get_int64() : static_cast<int64_t>(*ToNumber(value));
}

json::value NumberValue(double number) {
  if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 9e15) {
    return static_cast<int64_t>(number);
  }
  return number;
}

// Applies an arithmetic operator: on two integers in 64-bit integers (failing on overflow),
// otherwise in doubles. A value that is not a number counts as 0, as in DotLiquid.
enum class Arithmetic { kPlus, kMinus, kTimes, kDividedBy, kModulo };

Result<json::value> Calculate(std::string_view filter, Arithmetic op, const json::value& left,
                              const json::value& right) {
  if (IsInteger(left) && IsInteger(right)) {
    int64_t a = IntegerOf(left);
    int64_t b = IntegerOf(right);
    int64_t result = 0;
    bool overflow = false;
    switch (op) {
      case Arithmetic::kPlus:
        overflow = __builtin_add_overflow(a, b, &result);
        break;
      case Arithmetic::kMinus:
        overflow = __builtin_sub_overflow(a, b, &result);
        break;
      case Arithmetic::kTimes:
        overflow = __builtin_mul_overflow(a, b, &result);
        break;
      case Arithmetic::kDividedBy:
      case Arithmetic::kModulo:
        if (b == 0) return FilterError(filter, "division by zero");
        if (a == std::numeric_limits<int64_t>::min() && b == -1) {
          overflow = true;
          break;
        }
        result = op == Arithmetic::kDividedBy ? a / b : a % b;
        break;
    }
    if (overflow) return FilterError(filter, "integer overflow");
    return json::value(result);
  }
  double a = ToNumber(left).value_or(0);
  double b = ToNumber(right).value_or(0);
  switch (op) {
    case Arithmetic::kPlus:
      return json::value(a + b);
    case Arithmetic::kMinus:
      return json::value(a - b);
    case Arithmetic::kTimes:
      return json::value(a * b);
    case Arithmetic::kDividedBy:
      if (b == 0) return FilterError(filter, "division by zero");
      return json::value(a / b);
    case Arithmetic::kModulo:
      if (b == 0) return FilterError(filter, "division by zero");
      return json::value(std::fmod(a, b));
  }
  return json::value();
}

Result<json::value> Plus(const json::value& input, Args args) {
  return Calculate("Plus", Arithmetic::kPlus, input, args[0]);
}
Result<json::value> Minus(const json::value& input, Args args) {
  return Calculate("Minus", Arithmetic::kMinus, input, args[0]);
}
Result<json::value> Times(const json::value& input, Args args) {
  return Calculate("Times", Arithmetic::kTimes, input, args[0]);
}
Result<json::value> DividedBy(const json::value& input, Args args) {
  return Calculate("DividedBy", Arithmetic::kDividedBy, input, args[0]);
}
Result<json::value> Modulo(const json::value& input, Args args) {
  return Calculate("Modulo", Arithmetic::kModulo, input, args[0]);
}

Result<json::value> Abs(const json::value& input, Args) {
  if (IsInteger(input)) {
    int64_t value = IntegerOf(input);
    if (value == std::numeric_limits<int64_t>::min()) return FilterError("Abs", "integer overflow");
    return json::value(value < 0 ? -value : value);
  }
  return json::value(std::fabs(ToNumber(input).value_or(0)));
}

Result<json::value> AtLeast(const json::value& input, Args args) {
  double value = ToNumber(input).value_or(0);
  double bound = ToNumber(args[0]).value_or(0);
  return NumberValue(std::max(value, bound));
}

Result<json::value> AtMost(const json::value& input, Args args) {
  double value = ToNumber(input).value_or(0);
  double bound = ToNumber(args[0]).value_or(0);
  return NumberValue(std::min(value, bound));
}

Result<json::value> Round(const json::value& input, Args args) {
  std::optional<double> value = ToNumber(input);
  if (!value) return input;
  int64_t digits = args.empty() ? 0 : IntegerArgument(args[0], 0);
  digits = std::clamp<int64_t>(digits, 0, 15);
  double scale = std::pow(10.0, static_cast<double>(digits));
  double rounded = std::round(*value * scale) / scale;  // Halves round away from zero.
  if (digits == 0) return NumberValue(rounded);
  return json::value(rounded);
}

// Formats a number as en-US currency: "$1,234.50", "($3.00)" for a negative amount.
Result<json::value> Currency(const json::value& input, Args args) {
  if (!args.empty()) {
    std::string culture = ToText(args[0]);
    if (!culture.empty() && culture != "en-US") {
      return FilterError("Currency", "culture '" + culture + "' is not supported; only en-US is");
    }
  }
  std::optional<double> value = ToNumber(input);
  // Beyond 1e15 the amount in cents no longer fits the integer arithmetic below.
  if (!value || !std::isfinite(*value) || std::fabs(*value) >= 1e15) return input;
  auto cents = static_cast<int64_t>(std::llround(std::fabs(*value) * 100));
  std::string whole = std::to_string(cents / 100);
  for (int i = static_cast<int>(whole.size()) - 3; i > 0; i -= 3) whole.insert(i, ",");
  std::string fraction = std::to_string(cents % 100);
  if (fraction.size() < 2) fraction.insert(0, "0");
  std::string text = "$" + whole + "." + fraction;
  if (*value < 0 && cents != 0) text = "(" + text + ")";
  return json::value(json::string(text));
}

Result<json::value> Size(const json::value& input, Args) {
  if (input.is_string()) return json::value(static_cast<int64_t>(input.get_string().size()));
  if (input.is_array()) return json::value(static_cast<int64_t>(input.get_array().size()));
  if (input.is_object()) return json::value(static_cast<int64_t>(input.get_object().size()));
  return json::value(int64_t{0});
}

Result<json::value> First(const json::value& input, Args) {
  if (input.is_array()) return input.get_array().empty() ? json::value() : input.get_array()[0];
  return json::value();
}

Result<json::value> Last(const json::value& input, Args) {
  if (input.is_array()) {
    return input.get_array().empty() ? json::value() : input.get_array().back();
  }
  return json::value();
}

Result<json::value> Join(const json::value& input, Args args) {
  if (!input.is_array()) return json::value(json::string(ToText(input)));
  std::string separator = ArgText(args, 0, " ");
  std::string out;
  bool first = true;
  for (const json::value& item : input.get_array()) {
    if (!first) out += separator;
    out += ToText(item);
    first = false;
    if (out.size() > kMaxRenderBytes) return TooLong("Join");
  }
  return json::value(json::string(out));
}

// Splits on every occurrence of the separator; an empty separator splits into characters (bytes).
// Fails beyond kMaxRenderIterations parts, which bounds the work of the filters and loops after it.
Result<json::value> Split(const json::value& input, Args args) {
  std::string text = ToText(input);
  std::string separator = ToText(args[0]);
  json::array parts;
  auto too_many = [] {
    return FilterError(
        "Split", "the result has more than " + std::to_string(kMaxRenderIterations) + " parts");
  };
  if (separator.empty()) {
    if (text.size() > kMaxRenderIterations) return too_many();
    for (char c : text) parts.emplace_back(json::string(std::string(1, c)));
    return json::value(std::move(parts));
  }
  size_t start = 0;
  while (true) {
    if (parts.size() >= kMaxRenderIterations) return too_many();
    size_t at = text.find(separator, start);
    if (at == std::string::npos) {
      parts.emplace_back(json::string(std::string_view(text).substr(start)));
      break;
    }
    parts.emplace_back(json::string(std::string_view(text).substr(start, at - start)));
    start = at + separator.size();
  }
  // Liquid drops trailing empty parts, as Ruby's String#split does.
  while (!parts.empty() && parts.back().get_string().empty()) parts.pop_back();
  return json::value(std::move(parts));
}

Result<json::value> Default(const json::value& input, Args args) {
  bool empty = input.is_null() || (input.is_bool() && !input.get_bool()) ||
               (input.is_string() && input.get_string().empty()) ||
               (input.is_array() && input.get_array().empty());
  return empty ? args[0] : input;
}

Result<json::value> Compact(const json::value& input, Args) {
  if (!input.is_array()) return input;
  json::array items;
  for (const json::value& item : input.get_array()) {
    if (!item.is_null()) items.push_back(item);
  }
  return json::value(std::move(items));
}

Result<json::value> Uniq(const json::value& input, Args) {
  if (!input.is_array()) return input;
  // Items compare by their JSON text, which keeps the filter linear on long arrays.
  json::array items;
  std::unordered_set<std::string> seen;
  for (const json::value& item : input.get_array()) {
    if (seen.insert(json::serialize(item)).second) items.push_back(item);
  }
  return json::value(std::move(items));
}

const json::value* MemberOf(const json::value& item, std::string_view name) {
  if (!item.is_object()) return nullptr;
  return item.get_object().if_contains(name);
}

Result<json::value> Map(const json::value& input, Args args) {
  if (!input.is_array()) return input;
  std::string name = ToText(args[0]);
  json::array items;
  for (const json::value& item : input.get_array()) {
    const json::value* member = MemberOf(item, name);
    items.push_back(member == nullptr ? json::value() : *member);
  }
  return json::value(std::move(items));
}

// Sorts numbers by value and everything else by its text; with an argument, by that member.
Result<json::value> Sort(const json::value& input, Args args) {
  if (!input.is_array()) return input;
  json::array items = input.get_array();
  std::optional<std::string> member;
  if (!args.empty()) member = ToText(args[0]);
  auto key = [&](const json::value& item) -> const json::value& {
    static const json::value kNull;
    if (!member) return item;
    const json::value* found = MemberOf(item, *member);
    return found == nullptr ? kNull : *found;
  };
  std::stable_sort(items.begin(), items.end(), [&](const json::value& a, const json::value& b) {
    const json::value& x = key(a);
    const json::value& y = key(b);
    std::optional<double> left =
        x.is_number() ? std::optional<double>(x.to_number<double>()) : std::nullopt;
    std::optional<double> right =
        y.is_number() ? std::optional<double>(y.to_number<double>()) : std::nullopt;
    if (left && right) return *left < *right;
    if (left || right) return left.has_value();  // Numbers before everything else.
    return ToText(x) < ToText(y);
  });
  return json::value(std::move(items));
}

// Slice(start[, length]) of a string (in bytes) or an array; a negative start counts from the end.
Result<json::value> Slice(const json::value& input, Args args) {
  int64_t start = IntegerArgument(args[0], 0);
  int64_t length = args.size() > 1 ? IntegerArgument(args[1], 0) : 1;
  auto bounds = [&](int64_t size) {
    int64_t from = start < 0 ? start + size : start;
    from = std::clamp<int64_t>(from, 0, size);
    int64_t count = std::clamp<int64_t>(length, 0, size - from);
    return std::pair<size_t, size_t>(static_cast<size_t>(from), static_cast<size_t>(count));
  };
  if (input.is_array()) {
    const json::array& array = input.get_array();
    auto [from, count] = bounds(static_cast<int64_t>(array.size()));
    return json::value(json::array(array.begin() + static_cast<std::ptrdiff_t>(from),
                                   array.begin() + static_cast<std::ptrdiff_t>(from + count)));
  }
  std::string text = ToText(input);
  auto [from, count] = bounds(static_cast<int64_t>(text.size()));
  return json::value(json::string(std::string_view(text).substr(from, count)));
}

// Date(format): formats a date with a .NET format string. The input is a DateTime of a body read
// with parse-date, "now", "today", an ISO 8601 string or a number of seconds since 1970; any
// other input is returned unchanged.
Result<json::value> Date(const json::value& input, Args args) {
  std::string format = ToText(args[0]);
  std::optional<int64_t> ticks;
  std::string text = ToText(input);
  const json::value* date_ticks =
      input.is_object() ? input.get_object().if_contains("Ticks") : nullptr;
  if (date_ticks != nullptr && date_ticks->is_int64()) {
    ticks = date_ticks->get_int64();
  } else if (text == "now" || text == "today") {
    // NOTE: reads the system clock directly, so a test of "now" cannot fix the time.
    ticks =
        internal::DateTimeTicks(internal::DateTimeFromTimePoint(std::chrono::system_clock::now()));
    if (ticks && text == "today") *ticks -= *ticks % (86'400 * internal::kTicksPerSecond);
  } else if (input.is_number()) {
    ticks = internal::DateTimeTicks(internal::DateTimeFromUnixSeconds(input.to_number<double>()));
  } else if (input.is_string()) {
    auto parsed = internal::ParseDateTime(text);
    if (parsed.ok()) ticks = internal::DateTimeTicks(*parsed);
  }
  if (!ticks) return input;
  if (format.empty()) return json::value(json::string(text));
  return json::value(json::string(internal::FormatDateTime(*ticks, format)));
}

constexpr FilterSpec kFilters[] = {
    {"Abs", 0, 0, Abs},         {"AtLeast", 1, 1, AtLeast},     {"AtMost", 1, 1, AtMost},
    {"Compact", 0, 0, Compact}, {"Currency", 0, 1, Currency},   {"Date", 1, 1, Date},
    {"Default", 1, 1, Default}, {"DividedBy", 1, 1, DividedBy}, {"First", 0, 0, First},
    {"Join", 0, 1, Join},       {"Last", 0, 0, Last},           {"Map", 1, 1, Map},
    {"Minus", 1, 1, Minus},     {"Modulo", 1, 1, Modulo},       {"Plus", 1, 1, Plus},
    {"Round", 0, 1, Round},     {"Size", 0, 0, Size},           {"Slice", 1, 2, Slice},
    {"Sort", 0, 1, Sort},       {"Split", 1, 1, Split},         {"Times", 1, 1, Times},
    {"Uniq", 0, 0, Uniq},
};

}  // namespace

const FilterSpec* FindFilter(std::string_view name) {
  for (const FilterSpec& spec : kFilters) {
    if (spec.name == name) return &spec;
  }
  for (const FilterSpec& spec : TextFilters()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace credgate::policy::liquid
