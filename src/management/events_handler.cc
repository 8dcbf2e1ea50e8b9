#include "management/events_handler.h"

#include <charconv>
#include <cstdint>

#include "common/encoding.h"
#include "events/event_log.h"

namespace credgate::management {

namespace {

constexpr int64_t kDefaultLimit = 100;
constexpr int64_t kMaxLimit = 1000;

Result<int64_t> ParseNumber(std::string_view name, std::string_view text, int64_t min,
                            int64_t max) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid query parameter " + std::string(name) + "='" + std::string(text) +
                         "': use a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max),
                     "InvalidQueryParameter");
  }
  return value;
}

}  // namespace

bool IsEventsPath(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path == "/events";
}

boost::asio::awaitable<Result<boost::json::value>> HandleEventsCall(runtime::Services& services,
                                                                    const std::string& method,
                                                                    std::string_view target) {
  if (method != "GET") {
    co_return MakeError(ErrorCode::kMethodNotAllowed,
                        "method " + method + " is not supported on /events: use GET",
                        "MethodNotAllowed");
  }
  if (services.event_log == nullptr) {
    co_return MakeError(ErrorCode::kUnavailable,
                        "connection events are not available because no event log is configured");
  }
  const size_t query_start = target.find('?');
  const std::string_view query =
      query_start == std::string_view::npos ? std::string_view() : target.substr(query_start + 1);
  auto fields = FormDecode(query);
  if (!fields) {
    co_return MakeError(ErrorCode::kInvalidArgument,
                        "invalid query string: a percent escape is malformed",
                        "InvalidQueryParameter");
  }
  int64_t after = 0;
  int64_t limit = kDefaultLimit;
  for (const auto& [name, value] : *fields) {
    if (name == "after") {
      auto parsed = ParseNumber(name, value, 0, INT64_MAX);
      if (!parsed.ok()) co_return parsed.error();
      after = *parsed;
    } else if (name == "limit") {
      auto parsed = ParseNumber(name, value, 1, kMaxLimit);
      if (!parsed.ok()) co_return parsed.error();
      limit = *parsed;
    }
  }
  auto page = co_await services.event_log->List(after, limit);
  if (!page.ok()) co_return page.error();
  co_return boost::json::value(std::move(*page));
}

}  // namespace credgate::management
