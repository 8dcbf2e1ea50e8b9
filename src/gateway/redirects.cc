#include "gateway/redirects.h"

#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <string>

namespace credgate::gateway {

namespace bhttp = boost::beast::http;

bool IsFollowedRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Result<RedirectedRequest> FollowRedirect(const http::Origin& origin,
                                         const http::RequestHeader& previous, int status,
                                         std::string_view location) {
  const std::string base_text = origin.Key() + std::string(previous.target());
  auto base = boost::urls::parse_uri(base_text);
  auto reference = boost::urls::parse_uri_reference(location);
  if (!base || !reference) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "the backend redirected to '" + std::string(location) + "', which is not a URL reference");
  }
  boost::urls::url resolved;
  if (auto joined = boost::urls::resolve(*base, *reference, resolved); !joined) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the backend redirected to '" + std::string(location) +
                         "', which does not resolve against " + base_text);
  }
  resolved.remove_fragment();
  auto url = http::ParseHttpUrl(resolved.buffer());
  if (!url.ok()) return url.error();

  RedirectedRequest next{url->origin, previous, true};
  next.header.target(url->Target());
  const bhttp::verb method = previous.method();
  const bool becomes_get = (status == 303 && method != bhttp::verb::head) ||
                           ((status == 301 || status == 302) && method == bhttp::verb::post);
  if (becomes_get) {
    next.header.method(bhttp::verb::get);
    next.header.erase(bhttp::field::content_type);
    next.header.erase(bhttp::field::content_length);
    next.header.erase(bhttp::field::transfer_encoding);
    next.keeps_body = false;
  }
  if (url->origin.Key() != origin.Key()) {
    next.header.erase(bhttp::field::authorization);
    next.header.erase(bhttp::field::proxy_authorization);
    next.header.erase(bhttp::field::cookie);
  }
  return next;
}

}  // namespace credgate::gateway
