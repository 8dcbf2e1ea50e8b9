#include "app/portal_page.h"

#include <boost/beast/http/field.hpp>

#include "app/portal_assets.h"

namespace credgate::app {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kPrefix = "/portal/";

void SetSecurityHeaders(http::Response& response) {
  response.set("Content-Security-Policy", kPortalContentSecurityPolicy);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  response.set("Referrer-Policy", "no-referrer");
  // The files change with the binary, so a browser revalidates them on every load.
  response.set(bhttp::field::cache_control, "no-cache");
}

http::Response Redirect(unsigned version) {
  http::Response response{bhttp::status::found, version};
  response.set(bhttp::field::location, kPrefix);
  SetSecurityHeaders(response);
  response.prepare_payload();
  return response;
}

}  // namespace

std::optional<http::Response> PortalResponse(bhttp::verb method, std::string_view path,
                                             unsigned version) {
  if (method != bhttp::verb::get) return std::nullopt;
  if (path == "/" || path == "/portal") return Redirect(version);
  if (!path.starts_with(kPrefix)) return std::nullopt;

  std::string_view relative = path.substr(kPrefix.size());
  if (relative.empty()) relative = "index.html";
  const PortalAsset* asset = FindPortalAsset(relative);
  http::Response response{asset ? bhttp::status::ok : bhttp::status::not_found, version};
  SetSecurityHeaders(response);
  if (asset == nullptr) {
    response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    response.body() = "No portal file at " + std::string(path) + "\n";
  } else {
    response.set(bhttp::field::content_type, asset->content_type);
    response.body() = std::string(asset->body);
  }
  response.prepare_payload();
  return response;
}

}  // namespace credgate::app
