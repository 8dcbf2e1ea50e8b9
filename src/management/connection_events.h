// Connection events from the management side: the status changes that StoreTokenPersistence
// writes and the deletes of the management API, recorded through runtime::Services::event_log.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "events/connection_event.h"
#include "management/resources.h"
#include "runtime/services.h"

namespace credgate::management {

// Returns the event type of a change to the Error status with `error_code`: kReloginRequired for
// ReloginRequired and RefreshTokenRotationLost, and kRefreshFailed for every other code (a failed
// refresh or token request, a failed sign-in, or invalid provider settings).
events::EventType EventTypeForError(std::string_view error_code);

// Records an event of `type` for the connection "<provider>/<connection>" with its new `state`.
// Does nothing when services.event_log is null.
boost::asio::awaitable<void> RecordConnectionEvent(runtime::Services& services,
                                                   const std::string& connection_key,
                                                   events::EventType type,
                                                   const ConnectionState& state);

}  // namespace credgate::management
