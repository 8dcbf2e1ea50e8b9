#include "credentials/token_errors.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>

#include "common/encoding.h"

namespace credgate::credentials {

namespace {

constexpr size_t kMaxDescriptionLength = 300;
constexpr size_t kMaxBodyLength = 500;
constexpr size_t kMinRedactedWordLength = 20;
constexpr std::string_view kRedacted = "[redacted]";

struct ErrorCodeKind {
  std::string_view code;
  TokenErrorKind kind;
};

constexpr ErrorCodeKind kErrorCodeKinds[] = {
    {"invalid_grant", TokenErrorKind::kReloginRequired},
    {"interaction_required", TokenErrorKind::kReloginRequired},
    {"login_required", TokenErrorKind::kReloginRequired},
    {"consent_required", TokenErrorKind::kReloginRequired},
    {"invalid_client", TokenErrorKind::kProviderSettings},
    {"unauthorized_client", TokenErrorKind::kProviderSettings},
    {"unsupported_grant_type", TokenErrorKind::kProviderSettings},
    {"bad_client_secret", TokenErrorKind::kProviderSettings},
    {"invalid_client_id", TokenErrorKind::kProviderSettings},
    {"temporarily_unavailable", TokenErrorKind::kTransient},
    {"server_error", TokenErrorKind::kTransient},
};

bool IsTokenCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '~' || c == '+' || c == '/' || c == '=';
}

std::string Redact(std::string_view text, size_t max_length) {
  std::string printable;
  for (unsigned char c : text.substr(0, max_length)) {
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
      out += kRedacted;
    } else {
      out.append(printable, i, end - i);
    }
    i = end;
  }
  return out;
}

bool IsSecretName(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "code") return true;
  if (lower == "token_type") return false;
  for (std::string_view part : {"token", "secret", "password", "assertion", "verifier"}) {
    if (lower.find(part) != std::string::npos) return true;
  }
  return false;
}

void RedactMembers(boost::json::value& value) {
  if (value.is_array()) {
    for (auto& item : value.get_array()) RedactMembers(item);
    return;
  }
  if (!value.is_object()) return;
  for (auto& member : value.get_object()) {
    if (member.value().is_string() && IsSecretName(member.key())) {
      member.value() = kRedacted;
    } else {
      RedactMembers(member.value());
    }
  }
}

}  // namespace

TokenErrorKind KindOfErrorCode(std::string_view code) {
  for (const ErrorCodeKind& entry : kErrorCodeKinds) {
    if (entry.code == code) return entry.kind;
  }
  return TokenErrorKind::kOther;
}

TokenErrorKind ClassifyTokenError(const Error& error) {
  const TokenErrorKind kind = KindOfErrorCode(error.reason);
  if (kind != TokenErrorKind::kOther) return kind;
  if (error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kDeadlineExceeded) {
    return TokenErrorKind::kTransient;
  }
  return TokenErrorKind::kOther;
}

std::string SanitizeErrorCode(std::string_view code) {
  std::string out;
  for (unsigned char c : code.substr(0, 64)) {
    if (c >= 0x20 && c <= 0x7E && c != '"' && c != '\\') out.push_back(static_cast<char>(c));
  }
  return out;
}

std::string RedactDescription(std::string_view text) { return Redact(text, kMaxDescriptionLength); }

std::string RedactResponseBody(std::string_view body, bool is_json) {
  if (is_json) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(body, ec);
    if (!ec && (value.is_object() || value.is_array())) {
      RedactMembers(value);
      return Redact(boost::json::serialize(value), kMaxBodyLength);
    }
    return Redact(body, kMaxBodyLength);
  }
  auto fields = FormDecode(body);
  if (!fields || body.find('=') == std::string_view::npos) return Redact(body, kMaxBodyLength);
  // Each name and value is redacted on its own, because '=' is a base64 character and would
  // join a pair into one token-like word.
  std::string joined;
  for (const auto& [name, value] : *fields) {
    if (!joined.empty()) joined += '&';
    joined += Redact(name, kMaxBodyLength) + "=" +
              (IsSecretName(name) ? std::string(kRedacted) : Redact(value, kMaxBodyLength));
    if (joined.size() >= kMaxBodyLength) break;
  }
  return joined.substr(0, kMaxBodyLength);
}

}  // namespace credgate::credentials
