#include "gateway/login_cookies.h"

#include "common/encoding.h"
#include "common/hash.h"

namespace credgate::gateway {

std::string BindingCookieName(std::string_view prefix, std::string_view handle) {
  return std::string(prefix) + HexEncode(Sha256String(handle)).substr(0, 16);
}

std::string_view FindCookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semicolon = header.find(';');
    std::string_view pair = header.substr(0, semicolon);
    header =
        semicolon == std::string_view::npos ? std::string_view() : header.substr(semicolon + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return {};
}

std::string SetCookie(std::string_view name, std::string_view value, int max_age_seconds,
                      bool secure) {
  std::string cookie =
      std::string(name) + "=" + std::string(value) + "; Path=/.credgate/; HttpOnly; SameSite=Lax";
  if (max_age_seconds >= 0) cookie += "; Max-Age=" + std::to_string(max_age_seconds);
  if (secure) cookie += "; Secure";
  return cookie;
}

}  // namespace credgate::gateway
