// forward-request's follow-redirects: which backend responses are followed, and the request that
// follows one. As in browsers and HTTP clients, a 303 (and a 301 or 302 to a POST) becomes a GET
// without a body. A redirect to another origin drops the request's credentials, so a backend
// token never reaches a host that only the redirect named.
#pragma once

#include <string_view>

#include "common/result.h"
#include "http/exchange.h"
#include "http/url.h"

namespace credgate::gateway {

// The maximum number of redirects that one forward-request follows. The response after the last
// one is returned as it is.
inline constexpr int kMaxRedirects = 10;

// Reports whether `status` is a redirect whose Location a client follows: 301, 302, 303, 307
// or 308.
bool IsFollowedRedirect(int status);

struct RedirectedRequest {
  http::Origin origin;         // The destination of the next request.
  http::RequestHeader header;  // Its header, with the new target.
  bool keeps_body = true;      // False when the redirect turned the request into a GET.
};

// Builds the request that follows a `status` redirect to `location` (absolute, or relative to
// the URL of `previous`, which went to `origin`). Errors: kInvalidArgument when `location` is not
// a URL reference or does not resolve to an http or https URL.
Result<RedirectedRequest> FollowRedirect(const http::Origin& origin,
                                         const http::RequestHeader& previous, int status,
                                         std::string_view location);

}  // namespace credgate::gateway
