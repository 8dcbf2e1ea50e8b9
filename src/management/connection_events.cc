#include "management/connection_events.h"

#include "credentials/model.h"
#include "events/event_log.h"

namespace credgate::management {

events::EventType EventTypeForError(std::string_view error_code) {
  if (error_code == credentials::kReloginRequired ||
      error_code == credentials::kRefreshTokenRotationLost) {
    return events::EventType::kReloginRequired;
  }
  return events::EventType::kRefreshFailed;
}

boost::asio::awaitable<void> RecordConnectionEvent(runtime::Services& services,
                                                   const std::string& connection_key,
                                                   events::EventType type,
                                                   const ConnectionState& state) {
  if (services.event_log == nullptr) co_return;
  events::ConnectionEvent event;
  event.type = type;
  const size_t slash = connection_key.find('/');
  event.provider = connection_key.substr(0, slash);
  event.connection = slash == std::string::npos ? "" : connection_key.substr(slash + 1);
  if (type == events::EventType::kDeleted) {
    event.status = "Deleted";
  } else {
    event.status = state.connected ? "Connected" : "Error";
  }
  if (!state.connected && !state.error_code.empty()) {
    event.error_code = state.error_code;
    event.error_message = events::SanitizeErrorMessage(state.error_message);
  }
  co_await services.event_log->Record(std::move(event));
}

}  // namespace credgate::management
