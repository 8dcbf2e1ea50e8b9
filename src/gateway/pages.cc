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

namespace {

constexpr std::string_view kStyle =
    "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;"
    "padding:0 1rem;color:#1b1f24}h1{font-size:1.4rem}p.id{color:#57606a;font-size:.8rem}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.4rem 1rem}dt{font-weight:600}"
    "dd{margin:0}button{font:inherit;padding:.5rem 1.2rem;margin-right:.8rem}"
    "</style>";

// Wraps `content` (HTML) in a page with `title`, sent with headers that forbid framing, caching,
// sniffing and every script. `has_form` leaves out CSP form-action 'none'.
http::Response Document(int status, std::string_view title, std::string_view content, bool has_form,
                        unsigned http_version, std::string_view request_id) {
  std::string body;
  body += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  body += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  body += "<title>" + EscapeHtml(title) + " - credgate</title>";
  body += kStyle;
  body += "</head><body>";
  body += "<h1>" + EscapeHtml(title) + "</h1>";
  body += content;
  body += "<p class=\"id\">Request id: " + EscapeHtml(request_id) + "</p>";
  body += "</body></html>\n";

  // A form's answer redirects to the provider, which may pass the browser through other hosts
  // and back to the post-login URL. Browsers check form-action on every redirect of that chain,
  // so a page with a form sets none.
  std::string csp = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; ";
  if (!has_form) csp += "form-action 'none'; ";
  csp += "frame-ancestors 'none'";

  http::Response response{static_cast<bhttp::status>(status), http_version};
  response.set(bhttp::field::content_type, "text/html; charset=utf-8");
  response.set(bhttp::field::cache_control, "no-store");
  response.set("Content-Security-Policy", csp);
  response.set("X-Frame-Options", "DENY");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

http::Response HtmlPage(int status, std::string_view title, std::string_view message,
                        unsigned http_version, std::string_view request_id) {
  const std::string content = "<p id=\"message\">" + EscapeHtml(message) + "</p>";
  return Document(status, title, content, false, http_version, request_id);
}

http::Response ConsentPage(const ConsentPageContent& page, unsigned http_version,
                           std::string_view request_id) {
  std::string content;
  content += "<p id=\"message\">You are about to sign in to <strong>" +
             EscapeHtml(page.provider_name) +
             "</strong>. Your account there will be stored in a credgate connection, and the "
             "applications that this connection's access policies admit will call " +
             EscapeHtml(page.provider_name) + " as you.</p>";
  content += "<dl>";
  content += "<dt>Provider</dt><dd id=\"provider\">" + EscapeHtml(page.provider_name) + "</dd>";
  content += "<dt>Connection</dt><dd id=\"connection\">" + EscapeHtml(page.connection) + "</dd>";
  content += "<dt>Link created by</dt><dd id=\"requested-by\">" +
             EscapeHtml(page.requested_by.empty() ? "unknown" : page.requested_by) + "</dd>";
  content += "</dl>";
  content +=
      "<p>Continue only if you asked for this sign-in or expected it. If someone sent you this "
      "link unexpectedly, choose Cancel: nothing will be stored.</p>";
  content += "<form method=\"post\" action=\"" + EscapeHtml(page.form_path) + "\">";
  content += "<input type=\"hidden\" name=\"handle\" value=\"" + EscapeHtml(page.handle) + "\">";
  content +=
      "<input type=\"hidden\" name=\"form_token\" value=\"" + EscapeHtml(page.form_token) + "\">";
  content +=
      "<button type=\"submit\" name=\"action\" value=\"continue\" id=\"continue\">"
      "Continue</button>";
  content +=
      "<button type=\"submit\" name=\"action\" value=\"cancel\" id=\"cancel\">"
      "Cancel</button>";
  content += "</form>";
  http::Response response = Document(200, "Sign in to " + page.provider_name + "?", content, true,
                                     http_version, request_id);
  // With no-referrer, browsers send "Origin: null" with the form, and the gateway rejects
  // that. same-origin still sends no Referer to other sites.
  response.set("Referrer-Policy", "same-origin");
  return response;
}

}  // namespace credgate::gateway
