// The HTML pages a browser sees during a sign-in: the confirmation page, success and error. They
// are self-contained (no scripts, fonts or remote resources) and sent with headers that forbid
// framing, caching and scripts: Content-Security-Policy with default-src 'none' and
// frame-ancestors 'none', and X-Frame-Options DENY.
#pragma once

#include <string>
#include <string_view>

#include "http/exchange.h"

namespace credgate::gateway {

// Returns `text` with &, <, >, " and ' replaced by character references.
std::string EscapeHtml(std::string_view text);

http::Response HtmlPage(int status, std::string_view title, std::string_view message,
                        unsigned http_version, std::string_view request_id);

// The content of the confirmation page and the values its form posts back.
struct ConsentPageContent {
  std::string provider_name;  // The provider's display name, or its id.
  std::string connection;     // "<provider id>/<connection id>".
  std::string requested_by;   // The login link's creator; "" shows "unknown".
  std::string form_path;      // The form's target path, for example "/.credgate/consent".
  std::string handle;
  std::string form_token;
};

// Returns the page that asks the user to continue to the provider or cancel, with a form that
// posts `handle`, `form_token` and action=continue or action=cancel.
http::Response ConsentPage(const ConsentPageContent& page, unsigned http_version,
                           std::string_view request_id);

}  // namespace credgate::gateway
