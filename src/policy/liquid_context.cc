#include "policy/liquid_context.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <pugixml.hpp>

#include "policy/context_fields.h"
#include "policy/expression_json.h"
#include "policy/expression_time.h"
#include "policy/liquid_template.h"

namespace credgate::policy::internal {

namespace json = boost::json;

namespace {

constexpr size_t kMaxBodyDepth = 64;

enum class BodyFormat { kNone, kJson, kXml };

BodyFormat FormatOf(const HeaderMap& headers) {
  std::optional<std::string_view> content_type = headers.Get("Content-Type");
  if (!content_type) return BodyFormat::kNone;
  std::string media(content_type->substr(0, content_type->find(';')));
  for (char& c : media) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
  if (media == "application/json" || media == "text/json" || media.ends_with("+json")) {
    return BodyFormat::kJson;
  }
  if (media == "application/xml" || media == "text/xml" || media.ends_with("+xml")) {
    return BodyFormat::kXml;
  }
  return BodyFormat::kNone;
}

json::object HeadersObject(const HeaderMap& headers) {
  json::object object;
  for (const auto& [name, value] : headers.fields()) {
    if (object.contains(name)) continue;
    object[name] = *headers.GetJoined(name);
  }
  return object;
}

json::object UrlObject(const RequestState& request) {
  json::object query;
  for (auto& [name, value] : QueryEntries(request.query_string)) query[name] = value.ToString();
  std::string text = FullUrl(request);
  json::object url;
  url["Scheme"] = request.scheme;
  url["Host"] = request.host;
  url["Port"] = request.port;
  url["Path"] = request.path;
  url["Query"] = std::move(query);
  url["QueryString"] = request.query_string;
  url["ToUri"] = text;
  url["ToString"] = text;
  return url;
}

bool IsNil(const pugi::xml_node& element) {
  for (const pugi::xml_attribute& attribute : element.attributes()) {
    std::string_view name = attribute.name();
    if ((name == "xsi:nil" || name.ends_with(":nil")) &&
        std::string_view(attribute.value()) == "true") {
      return true;
    }
  }
  return false;
}

bool IsWhitespace(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

Result<json::value> ConvertElement(const pugi::xml_node& element, const LiquidBodyOptions& options,
                                   size_t depth) {
  if (depth > kMaxBodyDepth) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "the XML body nests more than " + std::to_string(kMaxBodyDepth) + " levels deep");
  }
  if (IsNil(element)) return options.xsi_nil_as_null ? json::value() : json::value(json::string());
  json::object object;
  for (const pugi::xml_attribute& attribute : element.attributes()) {
    object["@" + std::string(attribute.name())] = attribute.value();
  }
  std::string text;
  // Child elements by name in document order; a name seen twice becomes an array.
  std::vector<std::pair<std::string, std::vector<json::value>>> children;
  for (const pugi::xml_node& child : element.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
      continue;
    }
    if (child.type() != pugi::node_element) continue;
    auto converted = ConvertElement(child, options, depth + 1);
    if (!converted.ok()) return converted.error();
    auto same = std::find_if(children.begin(), children.end(),
                             [&](const auto& entry) { return entry.first == child.name(); });
    if (same == children.end()) {
      children.emplace_back(child.name(), std::vector<json::value>{});
      same = children.end() - 1;
    }
    same->second.push_back(std::move(converted).value());
  }
  if (object.empty() && children.empty()) {
    if (text.empty()) return json::value();
    return json::value(json::string(text));
  }
  if (!IsWhitespace(text)) object["#text"] = text;
  for (auto& [name, values] : children) {
    if (values.size() == 1) {
      object[name] = std::move(values[0]);
    } else {
      object[name] = json::array(std::make_move_iterator(values.begin()),
                                 std::make_move_iterator(values.end()));
    }
  }
  return json::value(std::move(object));
}

// Returns the ticks of a date string as Json.NET recognizes one: ISO 8601 with a time
// ("2012-03-21T05:40:00Z") or "/Date(1198908717056)/" (milliseconds since 1970).
std::optional<int64_t> DateTicks(std::string_view text) {
  if (text.size() >= 16 && text[4] == '-' && text[7] == '-' && text[10] == 'T') {
    auto parsed = ParseDateTime(text);
    if (!parsed.ok()) return std::nullopt;
    return DateTimeTicks(*parsed);
  }
  if (text.starts_with("/Date(") && text.ends_with(")/")) {
    std::string_view digits = text.substr(6, text.size() - 8);
    size_t sign = digits.find_first_of("+-", 1);  // A time zone offset after the milliseconds.
    digits = digits.substr(0, sign);
    int64_t milliseconds = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), milliseconds);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
    return DateTimeTicks(DateTimeFromUnixSeconds(static_cast<double>(milliseconds) / 1000));
  }
  return std::nullopt;
}

// Replaces each date string in `value` with a DateTime: an object whose "Ticks" the Date filter
// reads and whose "ToString" is the text a template writes, "MM/dd/yyyy HH:mm:ss".
void ParseDates(json::value& value) {
  if (value.is_string()) {
    if (std::optional<int64_t> ticks = DateTicks(value.get_string())) {
      json::object date;
      date["Ticks"] = *ticks;
      date["ToString"] = FormatDateTime(*ticks, "");
      value = std::move(date);
    }
  } else if (value.is_array()) {
    for (json::value& item : value.get_array()) ParseDates(item);
  } else if (value.is_object()) {
    for (auto& member : value.get_object()) ParseDates(member.value());
  }
}

Result<json::value> ParseBody(std::string_view body, BodyFormat format,
                              const LiquidBodyOptions& options) {
  if (format == BodyFormat::kNone || IsWhitespace(body)) return json::value();
  if (format == BodyFormat::kJson) {
    json::parse_options parse_options;
    parse_options.max_depth = kMaxBodyDepth;
    boost::system::error_code error;
    json::value parsed = json::parse(body, error, {}, parse_options);
    if (error) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the body is not valid JSON for the Liquid template: " + error.message());
    }
    return parsed;
  }
  pugi::xml_document document;
  pugi::xml_parse_result parsed =
      document.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        std::string("the body is not valid XML for the Liquid template: ") + parsed.description());
  }
  pugi::xml_node root = document.document_element();
  auto converted = ConvertElement(root, options, 1);
  if (!converted.ok()) return converted;
  json::object wrapper;
  wrapper[root.name()] = std::move(converted).value();
  return json::value(std::move(wrapper));
}

}  // namespace

Result<json::object> LiquidGlobals(const PolicyContext& context, LiquidInput input,
                                   const LiquidBodyOptions& options) {
  const RequestState& request = context.request;
  json::object url = UrlObject(request);
  json::object request_object;
  request_object["Url"] = url;
  request_object["Method"] = request.method;
  request_object["OriginalMethod"] = request.method;
  request_object["OriginalUrl"] = std::move(url);
  request_object["IpAddress"] = request.ip_address;
  request_object["HasBody"] = !request.body.empty();
  request_object["Headers"] = HeadersObject(request.headers);
  json::object parameters;
  for (const auto& [name, value] : request.matched_parameters) parameters[name] = value;
  request_object["MatchedParameters"] = std::move(parameters);
  json::object response_object;
  response_object["StatusCode"] = context.response.status_code;
  response_object["Method"] = request.method;
  response_object["Headers"] = HeadersObject(context.response.headers);

  const bool request_side = input == LiquidInput::kRequestBody;
  const HeaderMap& headers = request_side ? request.headers : context.response.headers;
  const std::string& body = request_side ? request.body : context.response.body;
  Result<json::value> parsed = json::value();
  if (input != LiquidInput::kEmpty) parsed = ParseBody(body, FormatOf(headers), options);
  if (!parsed.ok()) return parsed.error();
  // The depth of `parsed` is bounded by kMaxBodyDepth, which bounds this recursion.
  if (options.parse_date) ParseDates(*parsed);

  // Variables convert as JsonConvert does for expressions: JSON values stay JSON, a DateTime
  // becomes its ISO 8601 text, and another object its ToString(), which never exposes a secret.
  json::object variables;
  for (const auto& [name, value] : context.variables) variables[name] = JsonFromValue(value);

  json::object context_object;
  context_object["Request"] = std::move(request_object);
  context_object["Response"] = std::move(response_object);
  context_object["Variables"] = std::move(variables);
  json::object globals;
  globals["context"] = std::move(context_object);
  globals["body"] = std::move(parsed).value();
  return globals;
}

Result<std::string> EvaluateSetBody(const SetBodySpec& spec, const PolicyContext& context,
                                    LiquidInput input) {
  if (!spec.liquid) return spec.body.EvaluateString(context);
  LiquidBodyOptions options;
  options.xsi_nil_as_null = spec.xsi_nil_as_null;
  options.parse_date = spec.parse_date;
  auto globals = LiquidGlobals(context, input, options);
  if (!globals.ok()) return globals.error();
  return spec.liquid->Render(*globals);
}

}  // namespace credgate::policy::internal
