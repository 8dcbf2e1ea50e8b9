#include "management/resource_fields.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

#include "credentials/model.h"

namespace credgate::management::internal {

namespace json = boost::json;

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), "ValidationError");
}

// Returns properties.<key> when it is a string, "" when absent, or an error naming the field.
Result<std::string> OptionalString(const json::object& object, std::string_view key,
                                   std::string_view field) {
  auto it = object.find(key);
  if (it == object.end() || it->value().is_null()) return std::string();
  if (!it->value().is_string()) return Invalid("'" + std::string(field) + "' must be a string");
  return std::string(it->value().get_string());
}

Result<std::string> RequiredString(const json::object& object, std::string_view key,
                                   std::string_view field) {
  auto value = OptionalString(object, key, field);
  if (!value.ok()) return value;
  if (value->empty()) return Invalid("'" + std::string(field) + "' is required");
  return value;
}

Result<std::vector<std::string>> OptionalStringList(const json::object& object,
                                                    std::string_view key, std::string_view field) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) {
    return Invalid("'" + std::string(field) + "' must be a list of strings");
  }
  for (const auto& item : it->value().get_array()) {
    if (!item.is_string() || item.get_string().empty()) {
      return Invalid("'" + std::string(field) + "' must contain only non-empty strings");
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

Result<const json::object*> Properties(const json::object& body) {
  auto it = body.find("properties");
  if (it == body.end()) return Invalid("'properties' is required");
  if (!it->value().is_object()) return Invalid("'properties' must be an object");
  return &it->value().get_object();
}

Result<const json::object*> OptionalObject(const json::object& object, std::string_view key,
                                           std::string_view field) {
  static const json::object kEmpty;
  auto it = object.find(key);
  if (it == object.end() || it->value().is_null()) return &kEmpty;
  if (!it->value().is_object()) return Invalid("'" + std::string(field) + "' must be an object");
  return &it->value().get_object();
}

// Rejects a URL whose path does not start with '/' although it has an authority, which RFC 3986
// §3.3 forbids. Boost.URL 1.81 parses a host name that starts with an IPv4 address, such as
// "127.0.0.1.example.com", as that address and puts the rest of the name into the path. Without
// this check the gateway would connect to the address instead of the named host.
Status ValidateHostEndsAuthority(const boost::urls::url_view& url, std::string_view url_text,
                                 std::string_view field) {
  std::string_view path = url.encoded_path();
  if (!url.has_authority() || path.empty() || path.front() == '/') return OkStatus();
  return Invalid("invalid '" + std::string(field) + "' '" + std::string(url_text) +
                 "': its host is read as '" + std::string(url.encoded_host()) +
                 "' followed by '" + std::string(path) +
                 "'; use a host name that does not start with an IPv4 address, or the address "
                 "itself");
}

// Accepts https URLs, and http only for loopback hosts, where TLS adds nothing.
Status ValidateEndpointUrl(std::string_view url, std::string_view field) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->host().empty() || parsed->has_fragment()) {
    return Invalid("'" + std::string(field) + "' must be an absolute URL, got '" +
                   std::string(url) + "'");
  }
  CREDGATE_RETURN_IF_ERROR(ValidateHostEndsAuthority(*parsed, url, field));
  if (parsed->scheme() == "https") return OkStatus();
  if (parsed->scheme() == "http" && credentials::IsLoopbackHost(*parsed)) return OkStatus();
  return Invalid("'" + std::string(field) + "' must use https (http is accepted only for "
                 "loopback hosts), got '" + std::string(url) + "'");
}

json::object Envelope(std::string_view id, std::string_view name, std::string_view type,
                      json::object properties) {
  json::object out;
  out["id"] = id;
  out["name"] = name;
  out["type"] = type;
  out["properties"] = std::move(properties);
  return out;
}

json::array ToJsonArray(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

}  // namespace credgate::management::internal
