// DateTime and TimeSpan values of policy expressions, as .NET defines them: both count ticks of
// 100 ns, a DateTime from 0001-01-01T00:00:00 UTC. Every DateTime here is UTC, because the
// gateway reads only the UTC clock. Internal to the policy module.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/value.h"

namespace credgate::policy::internal {

inline constexpr int64_t kTicksPerSecond = 10'000'000;
// Ticks from 0001-01-01 to 1970-01-01.
inline constexpr int64_t kUnixEpochTicks = 621'355'968'000'000'000;
// DateTime.MaxValue.Ticks: 9999-12-31T23:59:59.9999999.
inline constexpr int64_t kMaxDateTimeTicks = 3'155'378'975'999'999'999;

std::shared_ptr<const Object> MakeDateTime(int64_t ticks);
std::shared_ptr<const Object> MakeTimeSpan(int64_t ticks);
Value DateTimeFromTimePoint(std::chrono::system_clock::time_point time);
// Returns a DateTime for `unix_seconds`, or null when it lies outside DateTime's range.
Value DateTimeFromUnixSeconds(double unix_seconds);

// Returns the ticks of a DateTime or TimeSpan value, or nullopt for any other value.
std::optional<int64_t> DateTimeTicks(const Value& value);
std::optional<int64_t> TimeSpanTicks(const Value& value);

// Parses an ISO 8601 date and time, as DateTime.Parse does for that form: "2024-05-01",
// "2024-05-01T10:20:30", with optional fraction and "Z" or "+hh:mm" offset (converted to UTC).
// Errors: kInvalidArgument naming the text.
Result<Value> ParseDateTime(std::string_view text);

// Formats `ticks` with a .NET standard format ("o", "s", "u", "r") or a custom format made of
// yyyy, yy, MMMM, MMM, MM, M, dddd, ddd, dd, d, HH, H, hh, h, mm, m, ss, s, f to fffffff, tt,
// K, zzz, quoted literals and backslash escapes. An empty format is the invariant culture's
// "MM/dd/yyyy HH:mm:ss".
std::string FormatDateTime(int64_t ticks, std::string_view format);

}  // namespace credgate::policy::internal
