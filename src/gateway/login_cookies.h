// The cookies of the sign-in pages. All are HttpOnly, SameSite=Lax, limited to /.credgate/ and
// Secure when the public URL is https.
//   credgate_consent_<16 hex>  binds a confirmation page to the browser that opened the link.
//   credgate_login_<16 hex>    binds an authorization (its state) to the same browser.
//   credgate_browser           the browser token that a confirmed consent code trusts
//                              (credentials/consent_codes.h); a session cookie.
#pragma once

#include <string>
#include <string_view>

namespace credgate::gateway {

inline constexpr std::string_view kBrowserCookie = "credgate_browser";

// Returns the name of the cookie that binds `handle` (a prompt handle or a state), derived from
// its SHA-256 so that several sign-ins in one browser do not overwrite each other's cookies.
std::string BindingCookieName(std::string_view prefix, std::string_view handle);

// Returns the value of cookie `name` in a Cookie header, or "" when it is absent.
std::string_view FindCookie(std::string_view header, std::string_view name);

// Returns a Set-Cookie value. `max_age_seconds` < 0 makes a session cookie, 0 deletes it.
std::string SetCookie(std::string_view name, std::string_view value, int max_age_seconds,
                      bool secure);

}  // namespace credgate::gateway
