#include "gateway/pages.h"

#include <gtest/gtest.h>

#include <string>

#include "gateway/login_cookies.h"

namespace credgate::gateway {
namespace {

ConsentPageContent Content() {
  ConsentPageContent content;
  content.provider_name = "Acme <script>alert(1)</script>";
  content.connection = "acme/alice";
  content.requested_by = "admin key 'ops\"'";
  content.form_path = "/.credgate/consent";
  content.handle = "handle-1";
  content.form_token = "token-1";
  return content;
}

std::string Header(const http::Response& response, std::string_view name) {
  return std::string(response[name]);
}

TEST(ConsentPage, EscapesEveryValue) {
  const std::string body = ConsentPage(Content(), 11, "req-1").body();
  EXPECT_EQ(body.find("<script"), std::string::npos) << body;
  EXPECT_NE(body.find("Acme &lt;script&gt;"), std::string::npos);
  EXPECT_NE(body.find("admin key &#39;ops&quot;&#39;"), std::string::npos);
  EXPECT_NE(body.find("<dd id=\"connection\">acme/alice</dd>"), std::string::npos);
}

TEST(ConsentPage, FormCarriesHandleAndToken) {
  const std::string body = ConsentPage(Content(), 11, "req-1").body();
  EXPECT_NE(body.find("<form method=\"post\" action=\"/.credgate/consent\">"), std::string::npos);
  EXPECT_NE(body.find("name=\"handle\" value=\"handle-1\""), std::string::npos);
  EXPECT_NE(body.find("name=\"form_token\" value=\"token-1\""), std::string::npos);
  EXPECT_NE(body.find("value=\"continue\""), std::string::npos);
  EXPECT_NE(body.find("value=\"cancel\""), std::string::npos);
}

TEST(ConsentPage, ForbidsFramingAndScripts) {
  http::Response response = ConsentPage(Content(), 11, "req-1");
  const std::string csp = Header(response, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("script-src"), std::string::npos) << csp;
  EXPECT_EQ(Header(response, "X-Frame-Options"), "DENY");
  EXPECT_EQ(Header(response, "Cache-Control"), "no-store");
  EXPECT_EQ(Header(response, "Referrer-Policy"), "same-origin");
}

TEST(ConsentPage, UnknownRequester) {
  ConsentPageContent content = Content();
  content.requested_by = "";
  const std::string body = ConsentPage(content, 11, "req-1").body();
  EXPECT_NE(body.find("<dd id=\"requested-by\">unknown</dd>"), std::string::npos);
}

TEST(HtmlPage, ForbidsForms) {
  http::Response response = HtmlPage(400, "Failed", "x", 11, "req-1");
  EXPECT_NE(Header(response, "Content-Security-Policy").find("form-action 'none'"),
            std::string::npos);
  EXPECT_EQ(Header(response, "Referrer-Policy"), "no-referrer");
}

TEST(LoginCookies, FindsNamedCookie) {
  EXPECT_EQ(FindCookie("a=1; credgate_browser=xyz; b=2", kBrowserCookie), "xyz");
  EXPECT_EQ(FindCookie("credgate_browser_x=1", kBrowserCookie), "");
  EXPECT_EQ(FindCookie("", kBrowserCookie), "");
}

TEST(LoginCookies, SessionAndDeletion) {
  const std::string session = SetCookie("n", "v", -1, true);
  EXPECT_EQ(session, "n=v; Path=/.credgate/; HttpOnly; SameSite=Lax; Secure");
  EXPECT_EQ(SetCookie("n", "", 0, false),
            "n=; Path=/.credgate/; HttpOnly; SameSite=Lax; Max-Age=0");
}

TEST(LoginCookies, NameDependsOnHandle) {
  const std::string a = BindingCookieName("credgate_login_", "state-a");
  EXPECT_EQ(a.size(), std::string("credgate_login_").size() + 16);
  EXPECT_NE(a, BindingCookieName("credgate_login_", "state-b"));
}

}  // namespace
}  // namespace credgate::gateway
