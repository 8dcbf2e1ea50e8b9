#include "credentials/token_response.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include "common/encoding.h"

namespace credgate::credentials {

namespace {

enum class BodyFormat { kJson, kForm, kHtml };

// What every error message and Error::details of one response are built from.
struct ResponseContext {
  std::string_view provider_id;
  int status = 0;
  std::string_view body;
  BodyFormat format = BodyFormat::kForm;
};

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Looks the header up here rather than through ClientResponse::Header so that this library does
// not depend on the HTTP client implementation.
std::string_view FindHeader(const http::ClientResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (ToLower(key) == ToLower(name)) return value;
  }
  return {};
}

// Providers label bodies loosely (JSON errors as text/plain, forms as JSON), so the first
// character decides, and the media type only when that character is not '{', '[' or '<'.
BodyFormat DetectFormat(const http::ClientResponse& response) {
  std::string media_type = ToLower(FindHeader(response, "Content-Type"));
  media_type = media_type.substr(0, media_type.find(';'));
  while (!media_type.empty() && media_type.back() == ' ') media_type.pop_back();
  if (media_type == "text/html" || media_type == "application/xhtml+xml") return BodyFormat::kHtml;

  const size_t first = response.body.find_first_not_of(" \t\r\n");
  const char first_char = first == std::string::npos ? '\0' : response.body[first];
  if (first_char == '{' || first_char == '[') return BodyFormat::kJson;
  if (first_char == '<') return BodyFormat::kHtml;
  if (media_type == "application/json" || media_type.ends_with("+json")) return BodyFormat::kJson;
  return BodyFormat::kForm;
}

bool IsTransientStatus(int status) { return status == 429 || (status >= 500 && status <= 599); }

std::string Prefix(const ResponseContext& context) {
  return "token endpoint of provider '" + std::string(context.provider_id) + "' (HTTP " +
         std::to_string(context.status) + ")";
}

Error WithDetails(const ResponseContext& context, Error error) {
  error.details = RedactResponseBody(context.body, context.format == BodyFormat::kJson);
  return error;
}

Error UnusableBody(const ResponseContext& context, std::string_view body_kind) {
  if (IsTransientStatus(context.status)) {
    return WithDetails(context, MakeError(ErrorCode::kUnavailable,
                                          Prefix(context) + " is unavailable and returned " +
                                              std::string(body_kind) + "; credgate retries later",
                                          std::string(kTokenEndpointUnavailable)));
  }
  return WithDetails(context, MakeError(ErrorCode::kBadGateway,
                                        Prefix(context) + " returned " + std::string(body_kind) +
                                            " instead of a token response; check the "
                                            "provider's tokenUrl",
                                        std::string(kInvalidTokenResponse)));
}

Error InvalidMember(const ResponseContext& context, std::string message) {
  return WithDetails(context, MakeError(ErrorCode::kBadGateway, Prefix(context) + message,
                                        std::string(kInvalidTokenResponse)));
}

Error ProviderError(const ResponseContext& context, std::string_view code,
                    std::string_view description) {
  const std::string reason = SanitizeErrorCode(code);
  std::string message = Prefix(context) + " returned error '" + reason + "'";
  if (!description.empty()) message += ": " + RedactDescription(description);

  ErrorCode error_code = ErrorCode::kBadGateway;
  switch (KindOfErrorCode(reason)) {
    case TokenErrorKind::kReloginRequired:
      message += "; the grant is no longer valid, so the user must sign in again";
      error_code = ErrorCode::kFailedPrecondition;
      break;
    case TokenErrorKind::kProviderSettings:
      message += "; check the provider's client id, client secret and client authentication "
                 "method";
      break;
    case TokenErrorKind::kTransient:
      message += "; credgate retries later";
      error_code = ErrorCode::kUnavailable;
      break;
    case TokenErrorKind::kOther:
      if (IsTransientStatus(context.status)) {
        message += "; credgate retries later";
        error_code = ErrorCode::kUnavailable;
      }
      break;
  }
  return WithDetails(context, MakeError(error_code, std::move(message), reason));
}

std::string_view StringMember(const boost::json::object& object, std::string_view name) {
  const boost::json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) return {};
  return value->get_string();
}

// Returns the error that `object` reports, or nullopt for a response without one.
std::optional<Error> FindProviderError(const ResponseContext& context,
                                       const boost::json::object& object) {
  if (const boost::json::value* error = object.if_contains("error")) {
    if (error->is_object()) {
      // Facebook Graph API style: {"error": {"message": ..., "type": ..., "code": ...}}.
      const boost::json::object& details = error->get_object();
      std::string_view type = StringMember(details, "type");
      return ProviderError(context, type.empty() ? "unknown_error" : type,
                           StringMember(details, "message"));
    }
    std::string_view code = error->is_string() ? std::string_view(error->get_string()) : "";
    return ProviderError(context, code.empty() ? "unknown_error" : code,
                         StringMember(object, "error_description"));
  }
  // Slack style: HTTP 200 with {"ok": false, "error": "..."}; the error is handled above.
  if (const boost::json::value* ok = object.if_contains("ok")) {
    if (ok->is_bool() && !ok->get_bool()) {
      return ProviderError(context, "unknown_error", "the response has \"ok\": false");
    }
  }
  return std::nullopt;
}

std::optional<boost::json::object> ParseForm(std::string_view body) {
  auto fields = FormDecode(body);
  if (!fields) return std::nullopt;
  boost::json::object object;
  for (auto& [name, value] : *fields) object[name] = value;
  return object;
}

// Returns the scopes of a `scope` member joined by single spaces, splitting on spaces and
// commas, or "" when there are none.
std::string NormalizeScope(const boost::json::value& scope) {
  std::vector<std::string_view> parts;
  auto split = [&parts](std::string_view text) {
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find_first_of(" ,", start);
      if (end == std::string_view::npos) end = text.size();
      if (end > start) parts.push_back(text.substr(start, end - start));
      start = end + 1;
    }
  };
  if (scope.is_string()) {
    split(scope.get_string());
  } else if (scope.is_array()) {
    // Not RFC 6749, but some providers return the granted scopes as an array of strings.
    for (const auto& item : scope.get_array()) {
      if (item.is_string()) split(item.get_string());
    }
  }
  std::string joined;
  for (std::string_view part : parts) {
    if (!joined.empty()) joined += ' ';
    joined += part;
  }
  return joined;
}

Result<TokenSet> ParseSuccess(const ResponseContext& context, boost::json::object object,
                              const TokenResponseOptions& options) {
  const boost::json::value* access_token = object.if_contains("access_token");
  if (access_token == nullptr || !access_token->is_string() || access_token->get_string().empty()) {
    return UnusableBody(context, "a body without an access_token");
  }

  TokenSet tokens;
  tokens.obtained_at = options.now;
  tokens.access_token = Secret(std::string(access_token->get_string()));
  if (const boost::json::value* refresh = object.if_contains("refresh_token")) {
    if (refresh->is_string()) tokens.refresh_token = Secret(std::string(refresh->get_string()));
  }

  // RFC 6749 §7.1: a client must not use a token whose type it does not understand, and the
  // type name is case-insensitive.
  tokens.token_type = "Bearer";
  if (const boost::json::value* type = object.if_contains("token_type")) {
    if (!type->is_string() || ToLower(type->get_string()) != "bearer") {
      const std::string type_name =
          type->is_string() ? std::string(type->get_string()) : "non-string";
      return InvalidMember(context, " issued a token of type '" + SanitizeErrorCode(type_name) +
                                        "'; credgate supports only Bearer tokens (RFC 6750)");
    }
  }

  const char* expires_name = object.contains("expires_in") ? "expires_in" : "expires";
  auto expires_in = ParseLifetimeSeconds(object.if_contains(expires_name));
  if (!expires_in) {
    return InvalidMember(context, " returned an invalid " + std::string(expires_name) + ": " +
                                      expires_in.error().message);
  }
  if (expires_in->has_value()) tokens.expires_at = options.now + **expires_in;

  tokens.scope = std::string(options.requested_scopes);
  if (const boost::json::value* scope = object.if_contains("scope")) {
    std::string granted = NormalizeScope(*scope);
    if (!granted.empty()) tokens.scope = std::move(granted);
  }

  object.erase("access_token");
  object.erase("refresh_token");
  object.erase("id_token");
  tokens.response = std::move(object);
  return tokens;
}

}  // namespace

Result<std::optional<std::chrono::seconds>> ParseLifetimeSeconds(const boost::json::value* value) {
  using Lifetime = std::optional<std::chrono::seconds>;
  if (value == nullptr || value->is_null()) return Lifetime();
  constexpr int64_t kMaxSeconds = int64_t{10} * 365 * 24 * 3600;
  if (value->is_int64() && value->get_int64() >= 0) {
    return Lifetime(std::chrono::seconds(std::min(value->get_int64(), kMaxSeconds)));
  }
  if (value->is_uint64()) return Lifetime(std::chrono::seconds(kMaxSeconds));
  if (value->is_double() && value->get_double() >= 0 && std::isfinite(value->get_double())) {
    const double seconds = std::min(value->get_double(), static_cast<double>(kMaxSeconds));
    return Lifetime(std::chrono::seconds(static_cast<int64_t>(seconds)));
  }
  if (value->is_string()) {
    std::string_view text = value->get_string();
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec == std::errc() && end == text.data() + text.size() && seconds >= 0) {
      return Lifetime(std::chrono::seconds(std::min(seconds, kMaxSeconds)));
    }
  }
  return MakeError(ErrorCode::kInvalidArgument, "not a non-negative number of seconds");
}

Result<TokenSet> ParseTokenResponse(const http::ClientResponse& response,
                                    const TokenResponseOptions& options) {
  ResponseContext context{options.provider_id, response.status, response.body,
                          DetectFormat(response)};
  if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return UnusableBody(context, "an empty body");
  }

  std::optional<boost::json::object> object;
  switch (context.format) {
    case BodyFormat::kHtml:
      return UnusableBody(context, "an HTML page");
    case BodyFormat::kJson: {
      boost::system::error_code ec;
      boost::json::value value = boost::json::parse(response.body, ec);
      if (ec) return UnusableBody(context, "a body that is not valid JSON");
      if (!value.is_object()) return UnusableBody(context, "JSON that is not an object");
      object = std::move(value.get_object());
      break;
    }
    case BodyFormat::kForm:
      object = ParseForm(response.body);
      if (!object || (!object->contains("access_token") && !object->contains("error"))) {
        return UnusableBody(context, "a body that is neither JSON nor a token form");
      }
      break;
  }

  // RFC 6749 §5.2: an `error` member makes the response an error whatever the HTTP status.
  if (std::optional<Error> error = FindProviderError(context, *object)) return std::move(*error);
  if (IsTransientStatus(context.status)) return UnusableBody(context, "no OAuth error");
  if (context.status < 200 || context.status > 299) {
    return UnusableBody(context, "an HTTP error status without an OAuth error");
  }
  return ParseSuccess(context, std::move(*object), options);
}

Result<TokenSet> ParseTokenResponse(const http::ClientResponse& response,
                                    std::string_view requested_scopes, TimePoint now,
                                    std::string_view provider_id) {
  const TokenResponseOptions options{provider_id, requested_scopes, now};
  return ParseTokenResponse(response, options);
}

}  // namespace credgate::credentials
