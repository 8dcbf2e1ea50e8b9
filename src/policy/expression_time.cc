#include "policy/expression_time.h"

#include <charconv>
#include <cmath>
#include <span>

namespace credgate::policy::internal {

namespace {

constexpr int64_t kTicksPerMillisecond = 10'000;
constexpr int64_t kTicksPerMinute = 60 * kTicksPerSecond;
constexpr int64_t kTicksPerHour = 60 * kTicksPerMinute;
constexpr int64_t kTicksPerDay = 24 * kTicksPerHour;

constexpr std::string_view kMonthNames[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
constexpr std::string_view kDayNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};

struct Civil {
  int year;
  unsigned month;
  unsigned day;
  int64_t time_of_day;  // Ticks since midnight.
  unsigned weekday;     // 0 is Sunday.
};

Civil ToCivil(int64_t ticks) {
  using namespace std::chrono;
  int64_t days = ticks / kTicksPerDay - kUnixEpochTicks / kTicksPerDay;
  sys_days date{std::chrono::days(days)};
  year_month_day ymd(date);
  return Civil{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
               static_cast<unsigned>(ymd.day()), ticks % kTicksPerDay, weekday(date).c_encoding()};
}

std::optional<int64_t> FromCivil(int year, unsigned month, unsigned day, int64_t time_of_day) {
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
  if (!ymd.ok() || year < 1 || year > 9999) return std::nullopt;
  int64_t days = sys_days(ymd).time_since_epoch().count() + kUnixEpochTicks / kTicksPerDay;
  return days * kTicksPerDay + time_of_day;
}

Error Invalid(std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument, std::string(what));
}

Result<Value> AddTicks(int64_t ticks, double amount, int64_t unit) {
  // The product is rounded on its own, because a double cannot hold a tick count near 6e17
  // exactly, and adding in double would lose the low digits.
  double delta = std::round(amount * static_cast<double>(unit));
  int64_t added = 0;
  if (!std::isfinite(delta) || std::fabs(delta) > static_cast<double>(kMaxDateTimeTicks) ||
      __builtin_add_overflow(ticks, static_cast<int64_t>(delta), &added) || added < 0 ||
      added > kMaxDateTimeTicks) {
    return Invalid("the added value takes the DateTime outside 0001-01-01 to 9999-12-31");
  }
  return Value(MakeDateTime(added));
}

Result<double> NumberArgument(std::string_view method, std::span<const Value> args) {
  if (args.size() != 1 || !args[0].is_number()) {
    return Invalid("DateTime." + std::string(method) + " takes one number");
  }
  return args[0].AsNumber();
}

// Appends `value`, which is not negative, with leading zeros up to `width` digits. A format
// such as "yyyyyyyy" requests more digits than the value has, so the zeros are appended apart.
void AppendPadded(std::string& out, int64_t value, size_t width) {
  char buffer[24];
  auto end = std::to_chars(buffer, buffer + sizeof(buffer), value).ptr;
  size_t digits = static_cast<size_t>(end - buffer);
  if (width > digits) out.append(width - digits, '0');
  out.append(buffer, digits);
}

class DateTime final : public Object {
 public:
  explicit DateTime(int64_t ticks) : ticks_(ticks) {}

  std::string_view TypeName() const override { return "DateTime"; }
  std::string ToString() const override { return FormatDateTime(ticks_, ""); }
  bool Equals(const Object& other) const override {
    auto* date = dynamic_cast<const DateTime*>(&other);
    return date != nullptr && date->ticks_ == ticks_;
  }
  std::optional<int> CompareTo(const Object& other) const override {
    auto* date = dynamic_cast<const DateTime*>(&other);
    if (date == nullptr) return std::nullopt;
    return ticks_ < date->ticks_ ? -1 : (ticks_ > date->ticks_ ? 1 : 0);
  }

  Result<Value> GetMember(std::string_view name) const override {
    Civil civil = ToCivil(ticks_);
    if (name == "Year") return Value(civil.year);
    if (name == "Month") return Value(static_cast<int>(civil.month));
    if (name == "Day") return Value(static_cast<int>(civil.day));
    if (name == "Hour") return Value(civil.time_of_day / kTicksPerHour);
    if (name == "Minute") return Value(civil.time_of_day / kTicksPerMinute % 60);
    if (name == "Second") return Value(civil.time_of_day / kTicksPerSecond % 60);
    if (name == "Millisecond") return Value(civil.time_of_day / kTicksPerMillisecond % 1000);
    if (name == "Ticks") return Value(ticks_);
    if (name == "DayOfWeek") return Value(kDayNames[civil.weekday]);
    if (name == "Date") return Value(MakeDateTime(ticks_ - civil.time_of_day));
    if (name == "TimeOfDay") return Value(MakeTimeSpan(civil.time_of_day));
    return Object::GetMember(name);
  }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    static constexpr std::pair<std::string_view, int64_t> kAdders[] = {
        {"AddMilliseconds", kTicksPerMillisecond},
        {"AddSeconds", kTicksPerSecond},
        {"AddMinutes", kTicksPerMinute},
        {"AddHours", kTicksPerHour},
        {"AddDays", kTicksPerDay},
        {"AddTicks", 1},
    };
    for (const auto& [adder, unit] : kAdders) {
      if (name != adder) continue;
      auto amount = NumberArgument(name, args);
      if (!amount.ok()) return amount.error();
      return AddTicks(ticks_, *amount, unit);
    }
    if (name == "Add" || name == "Subtract") {
      std::optional<int64_t> span = args.size() == 1 ? TimeSpanTicks(args[0]) : std::nullopt;
      if (name == "Subtract" && args.size() == 1 && !span) {
        std::optional<int64_t> other = DateTimeTicks(args[0]);
        if (other) return Value(MakeTimeSpan(ticks_ - *other));
      }
      if (!span) return Invalid("DateTime." + std::string(name) + " takes one TimeSpan");
      return AddTicks(ticks_, static_cast<double>(name == "Add" ? *span : -*span), 1);
    }
    if (name == "ToUniversalTime" && args.empty()) return Value(MakeDateTime(ticks_));
    if (name == "ToString" && args.size() <= 1) {
      if (args.size() == 1 && !args[0].is_string()) {
        return Invalid("DateTime.ToString takes a format string");
      }
      return Value(FormatDateTime(ticks_, args.empty() ? "" : args[0].AsString()));
    }
    return Object::CallMethod(name, args);
  }

 private:
  int64_t ticks_;
};

class TimeSpan final : public Object {
 public:
  explicit TimeSpan(int64_t ticks) : ticks_(ticks) {}

  std::string_view TypeName() const override { return "TimeSpan"; }
  // The constant format "c": [-][d.]hh:mm:ss[.fffffff].
  std::string ToString() const override {
    std::string out;
    uint64_t magnitude = ticks_ < 0 ? 0 - static_cast<uint64_t>(ticks_) : ticks_;
    if (ticks_ < 0) out += '-';
    uint64_t days = magnitude / kTicksPerDay;
    if (days > 0) out += std::to_string(days) + ".";
    AppendPadded(out, static_cast<int64_t>(magnitude / kTicksPerHour % 24), 2);
    out += ':';
    AppendPadded(out, static_cast<int64_t>(magnitude / kTicksPerMinute % 60), 2);
    out += ':';
    AppendPadded(out, static_cast<int64_t>(magnitude / kTicksPerSecond % 60), 2);
    if (magnitude % kTicksPerSecond != 0) {
      out += '.';
      AppendPadded(out, static_cast<int64_t>(magnitude % kTicksPerSecond), 7);
    }
    return out;
  }
  bool Equals(const Object& other) const override {
    auto* span = dynamic_cast<const TimeSpan*>(&other);
    return span != nullptr && span->ticks_ == ticks_;
  }
  std::optional<int> CompareTo(const Object& other) const override {
    auto* span = dynamic_cast<const TimeSpan*>(&other);
    if (span == nullptr) return std::nullopt;
    return ticks_ < span->ticks_ ? -1 : (ticks_ > span->ticks_ ? 1 : 0);
  }

  Result<Value> GetMember(std::string_view name) const override {
    const double ticks = static_cast<double>(ticks_);
    if (name == "Ticks") return Value(ticks_);
    if (name == "Days") return Value(ticks_ / kTicksPerDay);
    if (name == "Hours") return Value(ticks_ / kTicksPerHour % 24);
    if (name == "Minutes") return Value(ticks_ / kTicksPerMinute % 60);
    if (name == "Seconds") return Value(ticks_ / kTicksPerSecond % 60);
    if (name == "Milliseconds") return Value(ticks_ / kTicksPerMillisecond % 1000);
    if (name == "TotalDays") return Value(ticks / kTicksPerDay);
    if (name == "TotalHours") return Value(ticks / kTicksPerHour);
    if (name == "TotalMinutes") return Value(ticks / kTicksPerMinute);
    if (name == "TotalSeconds") return Value(ticks / kTicksPerSecond);
    if (name == "TotalMilliseconds") return Value(ticks / kTicksPerMillisecond);
    return Object::GetMember(name);
  }

 private:
  int64_t ticks_;
};

}  // namespace

std::shared_ptr<const Object> MakeDateTime(int64_t ticks) {
  return std::make_shared<const DateTime>(ticks);
}

std::shared_ptr<const Object> MakeTimeSpan(int64_t ticks) {
  return std::make_shared<const TimeSpan>(ticks);
}

Value DateTimeFromTimePoint(std::chrono::system_clock::time_point time) {
  auto ticks =
      std::chrono::duration_cast<std::chrono::duration<int64_t, std::ratio<1, 10'000'000>>>(
          time.time_since_epoch());
  return Value(MakeDateTime(kUnixEpochTicks + ticks.count()));
}

Value DateTimeFromUnixSeconds(double unix_seconds) {
  double ticks = static_cast<double>(kUnixEpochTicks) + unix_seconds * kTicksPerSecond;
  if (!std::isfinite(ticks) || ticks < 0 || ticks > static_cast<double>(kMaxDateTimeTicks)) {
    return Value();
  }
  return Value(MakeDateTime(static_cast<int64_t>(ticks)));
}

std::optional<int64_t> DateTimeTicks(const Value& value) {
  if (!value.is_object()) return std::nullopt;
  if (dynamic_cast<const DateTime*>(&value.AsObject()) == nullptr) return std::nullopt;
  return value.AsObject().GetMember("Ticks")->AsInt();
}

std::optional<int64_t> TimeSpanTicks(const Value& value) {
  if (!value.is_object()) return std::nullopt;
  if (dynamic_cast<const TimeSpan*>(&value.AsObject()) == nullptr) return std::nullopt;
  return value.AsObject().GetMember("Ticks")->AsInt();
}

Result<Value> ParseDateTime(std::string_view text) {
  const Error invalid = Invalid("'" + std::string(text) +
                                "' is not a date and time in ISO 8601 form (2024-05-01T10:20:30Z)");
  auto number = [&](size_t at, size_t width, int* out) {
    if (at + width > text.size()) return false;
    auto [ptr, ec] = std::from_chars(text.data() + at, text.data() + at + width, *out);
    return ec == std::errc() && ptr == text.data() + at + width;
  };

  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(0, 4, &year) || text.size() < 10 || text[4] != '-' || !number(5, 2, &month) ||
      text[7] != '-' || !number(8, 2, &day)) {
    return invalid;
  }

  size_t at = 10;
  int64_t fraction = 0;
  if (at < text.size() && (text[at] == 'T' || text[at] == ' ')) {
    if (!number(at + 1, 2, &hour) || text.size() < at + 9 || text[at + 3] != ':' ||
        !number(at + 4, 2, &minute) || text[at + 6] != ':' || !number(at + 7, 2, &second)) {
      return invalid;
    }
    at += 9;
    if (at < text.size() && text[at] == '.') {
      int64_t scale = kTicksPerSecond;
      ++at;
      size_t digits = 0;
      for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits) {
        scale /= 10;
        fraction += (text[at] - '0') * scale;
      }
      if (digits == 0) return invalid;
    }
  }

  int64_t offset = 0;
  if (at < text.size() && text[at] == 'Z') {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int offset_hours = 0, offset_minutes = 0;
    if (!number(at + 1, 2, &offset_hours) || text.size() < at + 6 || text[at + 3] != ':' ||
        !number(at + 4, 2, &offset_minutes)) {
      return invalid;
    }
    offset = (offset_hours * kTicksPerHour + offset_minutes * kTicksPerMinute) *
             (text[at] == '+' ? 1 : -1);
    at += 6;
  }

  if (at != text.size() || hour > 23 || minute > 59 || second > 59) return invalid;
  std::optional<int64_t> ticks = FromCivil(
      year, static_cast<unsigned>(month), static_cast<unsigned>(day),
      hour * kTicksPerHour + minute * kTicksPerMinute + second * kTicksPerSecond + fraction);
  if (!ticks || *ticks - offset < 0 || *ticks - offset > kMaxDateTimeTicks) return invalid;
  return Value(MakeDateTime(*ticks - offset));
}

std::string FormatDateTime(int64_t ticks, std::string_view format) {
  if (format.empty()) format = "MM/dd/yyyy HH:mm:ss";
  if (format == "o" || format == "O") format = "yyyy-MM-ddTHH:mm:ss.fffffffK";
  if (format == "s") format = "yyyy-MM-ddTHH:mm:ss";
  if (format == "u") format = "yyyy-MM-dd HH:mm:ssZ";
  if (format == "r" || format == "R") format = "ddd, dd MMM yyyy HH:mm:ss 'GMT'";

  Civil civil = ToCivil(ticks);
  const int64_t hour = civil.time_of_day / kTicksPerHour;
  std::string out;
  for (size_t i = 0; i < format.size();) {
    char c = format[i];
    size_t run = 1;
    while (i + run < format.size() && format[i + run] == c) ++run;
    switch (c) {
      case 'y':
        AppendPadded(out, run <= 2 ? civil.year % 100 : civil.year, run);
        break;
      case 'M':
        if (run >= 4) {
          out += kMonthNames[civil.month - 1];
        } else if (run == 3) {
          out += kMonthNames[civil.month - 1].substr(0, 3);
        } else {
          AppendPadded(out, civil.month, run);
        }
        break;
      case 'd':
        if (run >= 4) {
          out += kDayNames[civil.weekday];
        } else if (run == 3) {
          out += kDayNames[civil.weekday].substr(0, 3);
        } else {
          AppendPadded(out, civil.day, run);
        }
        break;
      case 'H':
        AppendPadded(out, hour, std::min<size_t>(run, 2));
        break;
      case 'h':
        AppendPadded(out, hour % 12 == 0 ? 12 : hour % 12, std::min<size_t>(run, 2));
        break;
      case 'm':
        AppendPadded(out, civil.time_of_day / kTicksPerMinute % 60, std::min<size_t>(run, 2));
        break;
      case 's':
        AppendPadded(out, civil.time_of_day / kTicksPerSecond % 60, std::min<size_t>(run, 2));
        break;
      case 'f':
      case 'F': {
        size_t digits = std::min<size_t>(run, 7);
        int64_t fraction = civil.time_of_day % kTicksPerSecond;
        for (size_t d = digits; d < 7; ++d) fraction /= 10;
        std::string text;
        AppendPadded(text, fraction, digits);
        if (c == 'F') {
          while (!text.empty() && text.back() == '0') text.pop_back();
          if (text.empty() && !out.empty() && out.back() == '.') out.pop_back();
        }
        out += text;
        break;
      }
      case 't':
        out += hour < 12 ? 'A' : 'P';
        if (run > 1) out += 'M';
        break;
      case 'K':
        out.append(run, 'Z');
        break;
      case 'z':
        out += run >= 3 ? "+00:00" : (run == 2 ? "+00" : "+0");
        break;
      case '\'':
      case '"': {
        size_t close = format.find(c, i + 1);
        if (close == std::string_view::npos) close = format.size();
        out += format.substr(i + 1, close - i - 1);
        i = close + 1;
        continue;
      }
      case '\\':
        if (i + 1 < format.size()) out += format[i + 1];
        i += 2;
        continue;
      default:
        out.append(run, c);
        break;
    }
    i += run;
  }
  return out;
}

}  // namespace credgate::policy::internal
