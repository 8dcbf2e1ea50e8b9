#include "http/url.h"

#include <fmt/format.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

namespace credgate::http {

namespace {

// Appends "host" or "[host]" for an IPv6 literal, then ":port" unless `with_port` is false.
// Every proxied request builds both strings, and fmt's format-string parsing cost about three
// times the instructions of these appends under bench/callgrind.sh.
void AppendHostPort(std::string& out, const std::string& host, uint16_t port, bool with_port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  if (ipv6) out.push_back('[');
  out.append(host);
  if (ipv6) out.push_back(']');
  if (!with_port) return;
  char digits[8];
  const auto end = std::to_chars(digits, digits + sizeof(digits), port).ptr;
  out.push_back(':');
  out.append(digits, end);
}

}  // namespace

std::string Origin::Authority() const {
  const bool default_port = (tls && port == 443) || (!tls && port == 80);
  std::string authority;
  authority.reserve(host.size() + 8);
  AppendHostPort(authority, host, port, !default_port);
  return authority;
}

std::string Origin::Key() const {
  std::string key;
  key.reserve(host.size() + 16);
  key.append(tls ? "https://" : "http://");
  AppendHostPort(key, host, port, true);
  return key;
}

std::string ParsedUrl::Target() const {
  if (query.empty()) return base_path;
  return base_path + "?" + query;
}

Result<ParsedUrl> ParseHttpUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("invalid URL '{}': {}; use an absolute http:// or https:// URL",
                                 url, parsed.error().message()));
  }
  const boost::urls::url_view& view = *parsed;

  ParsedUrl result;
  if (view.scheme_id() == boost::urls::scheme::https) {
    result.origin.tls = true;
  } else if (view.scheme_id() != boost::urls::scheme::http) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        fmt::format("unsupported scheme '{}' in URL '{}'; use http or https", view.scheme(), url));
  }
  if (view.has_userinfo()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("URL with host '{}' contains user information; send "
                                 "credentials in a header instead",
                                 view.host()));
  }

  switch (view.host_type()) {
    case boost::urls::host_type::ipv4:
      result.origin.host = view.host_ipv4_address().to_string();
      result.origin.host_is_ip = true;
      break;
    case boost::urls::host_type::ipv6:
      result.origin.host = view.host_ipv6_address().to_string();
      result.origin.host_is_ip = true;
      break;
    case boost::urls::host_type::name:
      result.origin.host = view.host_name();
      break;
    default:
      break;
  }
  if (result.origin.host.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("URL '{}' has no host; use http://host[:port]/path", url));
  }
  for (char& c : result.origin.host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }

  if (view.has_port()) {
    if (view.port_number() == 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("URL '{}' has an invalid port; use 1-65535", url));
    }
    result.origin.port = view.port_number();
  } else {
    result.origin.port = result.origin.tls ? 443 : 80;
  }

  // RFC 3986 requires the path after an authority to be empty or start with '/'. Boost.URL 1.81
  // parses "http://127.0.0.1.example.com/" as host 127.0.0.1 with path ".example.com/", which
  // would send the request to the address instead of the named host.
  if (!view.encoded_path().empty() && view.encoded_path().front() != '/') {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("invalid host in URL '{}': a host name that starts with an IP "
                                 "address is not supported; use the address or a DNS name",
                                 url));
  }
  result.base_path = view.encoded_path();
  if (result.base_path.empty()) result.base_path = "/";
  if (view.has_query()) result.query = view.encoded_query();
  return result;
}

std::string ComposeTarget(std::string_view base_path, std::string_view base_query,
                          std::string_view remaining_path, std::string_view query) {
  std::string target(base_path.empty() ? std::string_view("/") : base_path);
  if (!remaining_path.empty()) {
    const bool base_slash = target.back() == '/';
    const bool rest_slash = remaining_path.front() == '/';
    if (base_slash && rest_slash) {
      remaining_path.remove_prefix(1);
    } else if (!base_slash && !rest_slash) {
      target += '/';
    }
    target += remaining_path;
  }

  if (!base_query.empty() || !query.empty()) {
    target += '?';
    target += base_query;
    if (!base_query.empty() && !query.empty()) target += '&';
    target += query;
  }
  return target;
}

}  // namespace credgate::http
