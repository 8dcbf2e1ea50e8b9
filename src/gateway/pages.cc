#include "gateway/pages.h"

#include <boost/beast/http/field.hpp>
#include <string>

namespace credgate::gateway {

namespace bhttp = boost::beast::http;

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

http::Response HtmlPage(int status, std::string_view title, std::string_view message,
                        unsigned http_version, std::string_view request_id) {
  std::string body;
  body += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  body += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  body += "<title>" + EscapeHtml(title) + " - credgate</title>";
  body +=
      "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;"
      "padding:0 1rem;color:#1b1f24}h1{font-size:1.4rem}p.id{color:#57606a;font-size:.8rem}"
      "</style></head><body>";
  body += "<h1>" + EscapeHtml(title) + "</h1>";
  body += "<p id=\"message\">" + EscapeHtml(message) + "</p>";
  body += "<p class=\"id\">Request id: " + EscapeHtml(request_id) + "</p>";
  body += "</body></html>\n";

  http::Response response{static_cast<bhttp::status>(status), http_version};
  response.set(bhttp::field::content_type, "text/html; charset=utf-8");
  response.set(bhttp::field::cache_control, "no-store");
  response.set("Content-Security-Policy",
               "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  response.set("X-Frame-Options", "DENY");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace credgate::gateway
