#include "events/connection_event.h"

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

namespace credgate::events {

namespace {

constexpr size_t kMaxErrorMessageBytes = 300;
constexpr std::string_view kProviderResponse = "Provider response:";

std::string FormatTime(int64_t time_ms) {
  const std::time_t seconds = static_cast<std::time_t>(time_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof(millis), ".%03dZ", static_cast<int>(time_ms % 1000));
  return std::string(text, length) + millis;
}

}  // namespace

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kConnected:
      return "connected";
    case EventType::kRefreshFailed:
      return "refreshFailed";
    case EventType::kReloginRequired:
      return "reloginRequired";
    case EventType::kRecovered:
      return "recovered";
    case EventType::kDeleted:
      return "deleted";
  }
  return "unknown";
}

std::string SanitizeErrorMessage(std::string_view message) {
  const size_t response = message.find(kProviderResponse);
  if (response != std::string_view::npos) message = message.substr(0, response);
  if (message.size() > kMaxErrorMessageBytes) {
    size_t end = kMaxErrorMessageBytes;
    // Step back over UTF-8 continuation bytes (10xxxxxx) so no character is split.
    while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
    message = message.substr(0, end);
  }
  while (!message.empty() && (message.back() == ' ' || message.back() == '.')) {
    message.remove_suffix(1);
  }
  return std::string(message);
}

boost::json::object EventToJson(const ConnectionEvent& event) {
  boost::json::object json;
  json["id"] = event.id;
  json["type"] = EventTypeName(event.type);
  json["time"] = FormatTime(event.time_ms);
  json["provider"] = event.provider;
  json["connection"] = event.connection;
  json["status"] = event.status;
  if (event.error_code.empty()) {
    json["error"] = nullptr;
  } else {
    boost::json::object error;
    error["code"] = event.error_code;
    error["message"] = event.error_message;
    json["error"] = std::move(error);
  }
  return json;
}

Result<boost::json::object> StoredEventToJson(int64_t id, std::string_view body_json) {
  boost::json::error_code error;
  boost::json::value parsed = boost::json::parse(body_json, error);
  if (error || !parsed.is_object()) {
    return MakeError(ErrorCode::kInternal,
                     "stored connection event " + std::to_string(id) + " is not a JSON object");
  }
  boost::json::object event;
  event["id"] = std::to_string(id);
  for (auto& [key, field] : parsed.as_object()) event[key] = std::move(field);
  return event;
}

}  // namespace credgate::events
