// URL handling for outbound requests: parsing an absolute http(s) URL into the origin that keys
// a connection pool and the origin-form target sent on the request line, and composing a
// backend URL from a service URL and the remainder of an inbound path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace credgate::http {

// The (scheme, host, port) triple of RFC 6454 §4 that identifies where a request goes.
struct Origin {
  bool tls = false;   // True for https.
  std::string host;   // Host name or IP literal, without IPv6 brackets and lower-cased.
  uint16_t port = 0;  // Explicit port, or 80/443 by scheme.
  bool host_is_ip = false;

  // Returns "host:port" for the Host header (RFC 9110 §7.2), omitting the default port of the
  // scheme and bracketing IPv6 literals.
  std::string Authority() const;
  // Returns "http://host:port" or "https://host:port", the connection pool key.
  std::string Key() const;
};

struct ParsedUrl {
  Origin origin;
  std::string base_path;  // Encoded path; "/" when the URL has none.
  std::string query;      // Encoded query without the '?'; empty when absent.

  // Returns the origin-form request target (RFC 9112 §3.2.1): path plus "?query" when present.
  std::string Target() const;
};

// Parses an absolute http:// or https:// URL. Fails with kInvalidArgument when the URL does not
// parse, has another scheme, has no host, carries user information or has a port of 0.
Result<ParsedUrl> ParseHttpUrl(std::string_view url);

// Composes the target for a backend request: `base_path` of the service URL, then
// `remaining_path` of the inbound request, joined with exactly one '/', then `query` (encoded,
// without '?') appended from both the service URL and the request. An empty remaining path keeps
// the base path unchanged, so "/base" + "" is "/base" and "/base/" + "/x" is "/base/x".
std::string ComposeTarget(std::string_view base_path, std::string_view base_query,
                          std::string_view remaining_path, std::string_view query);

}  // namespace credgate::http
