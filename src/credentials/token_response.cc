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

constexpr size_t kMaxDescriptionLength = 300;
constexpr size_t kMinRedactedWordLength = 20;

enum class BodyFormat { kJson, kForm, kHtml };

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

BodyFormat DetectFormat(const http::ClientResponse& response) {
  std::string media_type = ToLower(FindHeader(response, "Content-Type"));
  media_type = media_type.substr(0, media_type.find(';'));
  while (!media_type.empty() && media_type.back() == ' ') media_type.pop_back();
  if (media_type == "application/json" || media_type.ends_with("+json")) return BodyFormat::kJson;
  if (media_type == "text/html" || media_type == "application/xhtml+xml") return BodyFormat::kHtml;
  if (media_type == "application/x-www-form-urlencoded" || media_type == "text/plain") {
    return BodyFormat::kForm;
  }
  // No or an unexpected media type: decide by the first non-blank character.
  const size_t first = response.body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && response.body[first] == '{') return BodyFormat::kJson;
  if (first != std::string::npos && response.body[first] == '<') return BodyFormat::kHtml;
  return BodyFormat::kForm;
}

bool IsTransientStatus(int status) { return status == 429 || (status >= 500 && status <= 599); }

std::string Prefix(std::string_view provider_id, int status) {
  return "token endpoint of provider '" + std::string(provider_id) + "' (HTTP " +
         std::to_string(status) + ")";
}

Error UnusableBody(std::string_view provider_id, int status, std::string_view body_kind) {
  if (IsTransientStatus(status)) {
    return MakeError(ErrorCode::kUnavailable,
                     Prefix(provider_id, status) + " is unavailable and returned " +
                         std::string(body_kind) + "; credgate retries later",
                     std::string(kTokenEndpointUnavailable));
  }
  return MakeError(ErrorCode::kBadGateway,
                   Prefix(provider_id, status) + " returned " + std::string(body_kind) +
                       " instead of a token response; check the provider's tokenUrl",
                   std::string(kInvalidTokenResponse));
}

Error ProviderError(std::string_view provider_id, int status, std::string_view code,
                    std::string_view description) {
  const std::string reason = SanitizeErrorCode(code);
  std::string message = Prefix(provider_id, status) + " returned error '" + reason + "'";
  if (!description.empty()) message += ": " + RedactDescription(description);

  if (reason == "invalid_grant") {
    message += "; the grant is no longer valid, so the user must sign in again";
    return MakeError(ErrorCode::kFailedPrecondition, std::move(message), reason);
  }
  if (reason == "invalid_client" || reason == "unauthorized_client") {
    message += "; check the provider's client id, client secret and client authentication method";
    return MakeError(ErrorCode::kBadGateway, std::move(message), reason);
  }
  if (reason == "temporarily_unavailable" || reason == "server_error" ||
      IsTransientStatus(status)) {
    return MakeError(ErrorCode::kUnavailable, std::move(message) + "; credgate retries later",
                     reason);
  }
  return MakeError(ErrorCode::kBadGateway, std::move(message), reason);
}

std::optional<boost::json::object> ParseForm(std::string_view body) {
  auto fields = FormDecode(body);
  if (!fields) return std::nullopt;
  boost::json::object object;
  for (auto& [name, value] : *fields) object[name] = value;
  return object;
}

// Returns the lifetime in seconds, nullopt when absent, or an error message.
Result<std::optional<int64_t>> ParseExpiresIn(const boost::json::value* value) {
  if (value == nullptr || value->is_null()) return std::optional<int64_t>();
  constexpr int64_t kMaxSeconds = int64_t{10} * 365 * 24 * 3600;
  if (value->is_int64() && value->get_int64() >= 0) {
    return std::optional<int64_t>(std::min(value->get_int64(), kMaxSeconds));
  }
  if (value->is_uint64()) return std::optional<int64_t>(kMaxSeconds);
  if (value->is_double() && value->get_double() >= 0 && std::isfinite(value->get_double())) {
    const double seconds = std::min(value->get_double(), static_cast<double>(kMaxSeconds));
    return std::optional<int64_t>(static_cast<int64_t>(seconds));
  }
  if (value->is_string()) {
    std::string_view text = value->get_string();
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec == std::errc() && end == text.data() + text.size() && seconds >= 0) {
      return std::optional<int64_t>(std::min(seconds, kMaxSeconds));
    }
  }
  return MakeError(ErrorCode::kBadGateway, "expires_in is not a non-negative number of seconds");
}

Result<TokenSet> ParseSuccess(boost::json::object object, std::string_view requested_scopes,
                              TimePoint now, std::string_view provider_id, int status) {
  const boost::json::value* access_token = object.if_contains("access_token");
  if (access_token == nullptr || !access_token->is_string() || access_token->get_string().empty()) {
    return UnusableBody(provider_id, status, "a body without an access_token");
  }

  TokenSet tokens;
  tokens.obtained_at = now;
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
      return MakeError(ErrorCode::kBadGateway,
                       Prefix(provider_id, status) + " issued a token of type '" +
                           SanitizeErrorCode(type_name) +
                           "'; credgate supports only Bearer tokens (RFC 6750)",
                       std::string(kInvalidTokenResponse));
    }
  }

  auto expires_in = ParseExpiresIn(object.if_contains("expires_in"));
  if (!expires_in) {
    return MakeError(ErrorCode::kBadGateway,
                     Prefix(provider_id, status) +
                         " returned an invalid expires_in: " + expires_in.error().message,
                     std::string(kInvalidTokenResponse));
  }
  if (expires_in->has_value()) tokens.expires_at = now + std::chrono::seconds(**expires_in);

  tokens.scope = std::string(requested_scopes);
  if (const boost::json::value* scope = object.if_contains("scope")) {
    if (scope->is_string() && !scope->get_string().empty()) {
      tokens.scope = std::string(scope->get_string());
    } else if (scope->is_array()) {
      // Not RFC 6749, but some providers return the granted scopes as an array of strings.
      std::string joined;
      for (const auto& item : scope->get_array()) {
        if (!item.is_string()) continue;
        if (!joined.empty()) joined += ' ';
        joined += item.get_string();
      }
      if (!joined.empty()) tokens.scope = std::move(joined);
    }
  }

  object.erase("access_token");
  object.erase("refresh_token");
  object.erase("id_token");
  tokens.response = std::move(object);
  return tokens;
}

bool IsTokenCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '~' || c == '+' || c == '/' || c == '=';
}

}  // namespace

std::string SanitizeErrorCode(std::string_view code) {
  std::string out;
  for (unsigned char c : code.substr(0, 64)) {
    if (c >= 0x20 && c <= 0x7E && c != '"' && c != '\\') out.push_back(static_cast<char>(c));
  }
  return out;
}

std::string RedactDescription(std::string_view text) {
  std::string printable;
  for (unsigned char c : text.substr(0, kMaxDescriptionLength)) {
    printable.push_back(c >= 0x20 && c <= 0x7E ? static_cast<char>(c) : ' ');
  }

  std::string out;
  size_t i = 0;
  while (i < printable.size()) {
    if (!IsTokenCharacter(printable[i])) {
      out.push_back(printable[i++]);
      continue;
    }
    size_t end = i;
    while (end < printable.size() && IsTokenCharacter(printable[end])) ++end;
    if (end - i >= kMinRedactedWordLength) {
      out += "[redacted]";
    } else {
      out.append(printable, i, end - i);
    }
    i = end;
  }
  return out;
}

Result<TokenSet> ParseTokenResponse(const http::ClientResponse& response,
                                    std::string_view requested_scopes, TimePoint now,
                                    std::string_view provider_id) {
  const int status = response.status;
  std::optional<boost::json::object> object;
  switch (DetectFormat(response)) {
    case BodyFormat::kHtml:
      return UnusableBody(provider_id, status, "an HTML page");
    case BodyFormat::kJson: {
      boost::system::error_code ec;
      boost::json::value value = boost::json::parse(response.body, ec);
      if (ec) return UnusableBody(provider_id, status, "a body that is not valid JSON");
      if (!value.is_object())
        return UnusableBody(provider_id, status, "JSON that is not an object");
      object = std::move(value.get_object());
      break;
    }
    case BodyFormat::kForm:
      object = ParseForm(response.body);
      if (!object || (!object->contains("access_token") && !object->contains("error"))) {
        return UnusableBody(provider_id, status, "a body that is neither JSON nor a token form");
      }
      break;
  }

  // RFC 6749 §5.2: an `error` member makes the response an error whatever the HTTP status.
  if (const boost::json::value* code = object->if_contains("error")) {
    std::string_view code_text = code->is_string() ? std::string_view(code->get_string()) : "";
    std::string_view description;
    if (const boost::json::value* d = object->if_contains("error_description")) {
      if (d->is_string()) description = d->get_string();
    }
    return ProviderError(provider_id, status, code_text.empty() ? "unknown_error" : code_text,
                         description);
  }
  if (IsTransientStatus(status)) return UnusableBody(provider_id, status, "no OAuth error");
  if (status < 200 || status > 299) {
    return UnusableBody(provider_id, status, "an HTTP error status without an OAuth error");
  }
  return ParseSuccess(std::move(*object), requested_scopes, now, provider_id, status);
}

TokenErrorKind ClassifyTokenError(const Error& error) {
  if (error.reason == "invalid_grant") return TokenErrorKind::kReloginRequired;
  if (error.reason == "invalid_client" || error.reason == "unauthorized_client") {
    return TokenErrorKind::kProviderSettings;
  }
  if (error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kDeadlineExceeded ||
      error.reason == "temporarily_unavailable" || error.reason == "server_error") {
    return TokenErrorKind::kTransient;
  }
  return TokenErrorKind::kOther;
}

}  // namespace credgate::credentials
