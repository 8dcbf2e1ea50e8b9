// Helpers shared by the Parse* and Render* functions of the management resources: typed reads of
// body members with errors that name the field, URL checks, and the ARM envelope. Internal to
// the resources files.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/url/url_view.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace credgate::management::internal {

// Returns a kInvalidArgument error with reason "ValidationError".
Error Invalid(std::string message);

// Returns object.<key> when it is a string, "" when absent or null, or an error naming `field`.
Result<std::string> OptionalString(const boost::json::object& object, std::string_view key,
                                   std::string_view field);
// Same, and an empty or absent value is an error.
Result<std::string> RequiredString(const boost::json::object& object, std::string_view key,
                                   std::string_view field);
Result<std::vector<std::string>> OptionalStringList(const boost::json::object& object,
                                                    std::string_view key,
                                                    std::string_view field);
// Returns body.properties, which must be an object.
Result<const boost::json::object*> Properties(const boost::json::object& body);
// Returns object.<key>, an empty object when absent or null.
Result<const boost::json::object*> OptionalObject(const boost::json::object& object,
                                                  std::string_view key, std::string_view field);

// Rejects a URL whose host Boost.URL 1.81 splits at an IPv4 prefix (see resource_fields.cc).
Status ValidateHostEndsAuthority(const boost::urls::url_view& url, std::string_view url_text,
                                 std::string_view field);
// Accepts absolute https URLs, and http only for loopback hosts.
Status ValidateEndpointUrl(std::string_view url, std::string_view field);

// Returns the ARM resource shape {"id", "name", "type", "properties"}.
boost::json::object Envelope(std::string_view id, std::string_view name, std::string_view type,
                             boost::json::object properties);
boost::json::array ToJsonArray(const std::vector<std::string>& values);

}  // namespace credgate::management::internal
