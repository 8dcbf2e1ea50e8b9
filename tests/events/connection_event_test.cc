#include "events/connection_event.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace credgate::events {
namespace {

TEST(ConnectionEventTest, JsonCarriesEveryField) {
  ConnectionEvent event;
  event.id = "42";
  event.type = EventType::kReloginRequired;
  event.time_ms = 1'700'000'000'123;
  event.provider = "github";
  event.connection = "alice";
  event.status = "Error";
  event.error_code = "ReloginRequired";
  event.error_message = "the provider rejected the refresh token";
  boost::json::object json = EventToJson(event);
  EXPECT_EQ(json["id"].as_string(), "42");
  EXPECT_EQ(json["type"].as_string(), "reloginRequired");
  EXPECT_EQ(json["time"].as_string(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(json["provider"].as_string(), "github");
  EXPECT_EQ(json["connection"].as_string(), "alice");
  EXPECT_EQ(json["status"].as_string(), "Error");
  EXPECT_EQ(json["error"].as_object().at("code").as_string(), "ReloginRequired");
  EXPECT_EQ(json["error"].as_object().at("message").as_string(),
            "the provider rejected the refresh token");
}

TEST(ConnectionEventTest, ConnectedEventHasNullError) {
  ConnectionEvent event;
  event.status = "Connected";
  boost::json::object json = EventToJson(event);
  EXPECT_EQ(json["type"].as_string(), "connected");
  EXPECT_TRUE(json["error"].is_null());
}

TEST(ConnectionEventTest, TypeNames) {
  EXPECT_EQ(EventTypeName(EventType::kConnected), "connected");
  EXPECT_EQ(EventTypeName(EventType::kRefreshFailed), "refreshFailed");
  EXPECT_EQ(EventTypeName(EventType::kReloginRequired), "reloginRequired");
  EXPECT_EQ(EventTypeName(EventType::kRecovered), "recovered");
  EXPECT_EQ(EventTypeName(EventType::kDeleted), "deleted");
}

TEST(SanitizeErrorMessageTest, DropsProviderResponse) {
  EXPECT_EQ(SanitizeErrorMessage("token request failed: invalid_grant. Provider response: "
                                 "{\"error\":\"invalid_grant\",\"refresh_token\":\"[redacted]\"}"),
            "token request failed: invalid_grant");
}

TEST(SanitizeErrorMessageTest, CutsLongMessagesOnCharacterBoundary) {
  std::string message(299, 'a');
  message += "\xc3\xa9";  // U+00E9, two bytes, crossing the 300-byte limit.
  message += "tail";
  const std::string sanitized = SanitizeErrorMessage(message);
  EXPECT_EQ(sanitized, std::string(299, 'a'));
}

TEST(SanitizeErrorMessageTest, KeepsShortMessages) {
  EXPECT_EQ(SanitizeErrorMessage("provider unreachable"), "provider unreachable");
}

}  // namespace
}  // namespace credgate::events
