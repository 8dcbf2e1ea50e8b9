#include "management/redirect_url.h"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>

namespace credgate::management {

namespace {

constexpr size_t kMaxUrlLength = 2048;

Error Invalid(std::string_view text, std::string_view problem) {
  return MakeError(
      ErrorCode::kInvalidArgument,
      "postLoginRedirectUrl '" + std::string(text) + "' is rejected: " + std::string(problem),
      "ValidationError");
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Returns whether `text` contains a percent-encoded '/', '\', control character or DEL, which
// some servers and browsers decode before they route.
bool HasDangerousEscape(std::string_view text) {
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] != '%') continue;
    const std::string pair = Lower(text.substr(i + 1, 2));
    if (pair == "2f" || pair == "5c" || pair == "7f") return true;
    if (pair[0] == '0' || pair[0] == '1') return true;
  }
  return false;
}

bool IsValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label_length = 0;
  for (char c : host) {
    if (c == '.') {
      if (label_length == 0) return false;
      label_length = 0;
      continue;
    }
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    if (!allowed || ++label_length > 63) return false;
  }
  return label_length != 0;
}

}  // namespace

Result<std::string> NormalizeRedirectUrl(std::string_view text) {
  if (text.empty() || text.size() > kMaxUrlLength) {
    return Invalid(text, "it must be an absolute URL of at most 2048 characters");
  }
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return Invalid(text,
                     "it contains a space, a control or a non-ASCII character; write a Unicode "
                     "host name in its xn-- form");
    }
    if (c == '\\') return Invalid(text, "it contains '\\'");
  }
  if (HasDangerousEscape(text)) {
    return Invalid(text, "it contains an encoded '/', '\\' or control character");
  }
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return Invalid(text, "it is not an absolute URL");
  // Checked before normalize(), which would decode an escaped '.' in the host.
  if (parsed->encoded_host().find('%') != std::string_view::npos) {
    return Invalid(text, "its host contains '%'");
  }
  boost::urls::url url(*parsed);
  url.normalize();

  if (url.scheme() != "https" && url.scheme() != "http") {
    return Invalid(text, "its scheme must be http or https");
  }
  if (!url.has_authority() || url.encoded_host().empty()) {
    return Invalid(text, "it has no host");
  }
  if (url.has_userinfo()) return Invalid(text, "it contains a user name or password before '@'");
  if (url.has_fragment()) return Invalid(text, "it contains a fragment");
  if (url.host_type() != boost::urls::host_type::name &&
      url.host_type() != boost::urls::host_type::ipv4) {
    return Invalid(text, "its host must be a DNS name or an IPv4 address");
  }

  std::string host(url.encoded_host());
  if (host.ends_with('.')) host.pop_back();
  if (!IsValidHostName(host)) return Invalid(text, "its host is not a valid DNS name");
  url.set_encoded_host(host);

  if (url.has_port()) {
    const std::string_view port = url.port();
    if (port.empty()) {
      url.remove_port();
    } else if (port.size() > 5 || url.port_number() == 0) {
      return Invalid(text, "its port must be from 1 to 65535");
    }
  }
  if ((url.scheme() == "https" && url.port() == "443") ||
      (url.scheme() == "http" && url.port() == "80")) {
    url.remove_port();
  }
  std::string normalized(url.buffer());
  if (url.encoded_path().empty()) {
    // An empty path and "/" are equivalent for http(s) (RFC 3986 §6.2.3). The slash goes
    // right after the authority, before any query.
    const size_t authority_end = normalized.find_first_of("?", normalized.find("//") + 2);
    normalized.insert(authority_end == std::string::npos ? normalized.size() : authority_end, "/");
  }
  return normalized;
}

Result<std::string> CheckPostLoginRedirect(std::string_view url,
                                           const std::vector<std::string>& allow_list) {
  auto normalized = NormalizeRedirectUrl(url);
  if (!normalized.ok()) return normalized.error();
  for (const std::string& entry : allow_list) {
    auto allowed = NormalizeRedirectUrl(entry);
    if (allowed.ok() && *allowed == *normalized) return normalized;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "postLoginRedirectUrl '" + std::string(url) +
                       "' is not on the gateway's allow-list: add it with "
                       "--post-login-redirect-allow or postLoginRedirectAllowList",
                   "ValidationError");
}

}  // namespace credgate::management
