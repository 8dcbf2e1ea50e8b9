// Serves the web portal on the management listener. GET / redirects to /portal/, GET /portal/
// returns index.html, and GET /portal/<file> returns an embedded file (portal_assets.h). The
// pages call the management API from the browser with the credential the user types in.
//
// Every portal response carries a Content-Security-Policy that allows scripts, styles, images
// and fetches from the management origin only, with no inline script or style, and no framing.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <optional>
#include <string_view>

#include "http/exchange.h"

namespace credgate::app {

// The Content-Security-Policy of every portal response.
inline constexpr std::string_view kPortalContentSecurityPolicy =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'";

// Returns the response to a GET of `path` (without the query string) when the path is
// the portal's: / or below /portal. Returns nullopt for any other path or method, which the
// management API then handles. An unknown file below /portal/ gets 404.
std::optional<http::Response> PortalResponse(boost::beast::http::verb method,
                                             std::string_view path, unsigned version);

}  // namespace credgate::app
