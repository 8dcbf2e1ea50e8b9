// ConnectionEvent: a change of a connection's status, as GET /events and the webhooks report it.
// An event names the connection and its new status and never carries a token, a secret or a
// provider's response body.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace credgate::events {

enum class EventType {
  kConnected,        // A user signed in, or a client credentials connection got its first token.
  kRefreshFailed,    // A refresh failed and the connection's status became Error.
  kReloginRequired,  // The provider rejected the refresh token: a user must sign in again.
  kRecovered,        // A refresh succeeded after an Error status.
  kDeleted,          // The connection, or its provider, was deleted.
};

// Returns the event's name in JSON: "connected", "refreshFailed", "reloginRequired",
// "recovered" or "deleted".
std::string_view EventTypeName(EventType type);

struct ConnectionEvent {
  std::string id;  // The store's event id as decimal text; the cursor of GET /events.
  EventType type = EventType::kConnected;
  int64_t time_ms = 0;  // Unix milliseconds.
  std::string provider;
  std::string connection;
  // "Connected", "Error" or "Deleted".
  std::string status;
  // Set for kRefreshFailed and kReloginRequired: the connection error's code and its message
  // cut by SanitizeErrorMessage().
  std::string error_code;
  std::string error_message;
};

// Returns the part of a connection error's message that may leave credgate: the text before the
// provider's response body ("Provider response: ..."), at most 300 bytes, cut on a UTF-8
// character boundary.
std::string SanitizeErrorMessage(std::string_view message);

// Returns the event as JSON: {id, type, time (RFC 3339, UTC, milliseconds), provider,
// connection, status, error: {code, message} or null}.
boost::json::object EventToJson(const ConnectionEvent& event);

// Returns a stored event (store::EventRecord::body_json, which has no id) as JSON with the store's
// `id`, as decimal text, for its first member: the form that GET /events lists and a webhook
// receives. Errors: kInternal when the stored body is not a JSON object.
Result<boost::json::object> StoredEventToJson(int64_t id, std::string_view body_json);

}  // namespace credgate::events
