// The HTML pages a browser sees during a sign-in: success and error. They are self-contained
// (no scripts, fonts or remote resources) and sent with headers that forbid framing and caching.
#pragma once

#include <string_view>

#include "http/exchange.h"

namespace credgate::gateway {

// Returns `text` with &, <, >, " and ' replaced by character references.
std::string EscapeHtml(std::string_view text);

http::Response HtmlPage(int status, std::string_view title, std::string_view message,
                        unsigned http_version, std::string_view request_id);

}  // namespace credgate::gateway
