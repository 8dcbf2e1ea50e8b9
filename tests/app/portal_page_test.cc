#include "app/portal_page.h"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include "app/portal_assets.h"

namespace credgate::app {
namespace {

namespace bhttp = boost::beast::http;

std::optional<http::Response> Get(std::string_view path) {
  return PortalResponse(bhttp::verb::get, path, 11);
}

TEST(PortalPageTest, RootRedirectsToPortal) {
  auto response = Get("/");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 302u);
  EXPECT_EQ((*response)[bhttp::field::location], "/portal/");
}

TEST(PortalPageTest, ServesIndex) {
  auto response = Get("/portal/");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ((*response)[bhttp::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(response->body().find(R"(<script type="module" src="js/app.js">)"), std::string::npos);
}

TEST(PortalPageTest, SetsSecurityHeaders) {
  for (std::string_view path : {"/portal/", "/portal/js/app.js", "/portal/missing.js", "/"}) {
    auto response = Get(path);
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ((*response)["Content-Security-Policy"], kPortalContentSecurityPolicy) << path;
    EXPECT_EQ((*response)["X-Content-Type-Options"], "nosniff") << path;
    EXPECT_EQ((*response)["X-Frame-Options"], "DENY") << path;
  }
}

TEST(PortalPageTest, ServesScriptAsJavascript) {
  auto response = Get("/portal/js/app.js");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ((*response)[bhttp::field::content_type], "text/javascript; charset=utf-8");
}

TEST(PortalPageTest, UnknownFileIsNotFound) {
  for (std::string_view path : {"/portal/missing.js", "/portal/../README.md", "/portal/js/"}) {
    auto response = Get(path);
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ(response->result_int(), 404u) << path;
  }
}

TEST(PortalPageTest, LeavesOtherRequestsToApi) {
  EXPECT_FALSE(Get("/apis").has_value());
  EXPECT_FALSE(Get("/portalx").has_value());
  EXPECT_FALSE(PortalResponse(bhttp::verb::post, "/portal/", 11).has_value());
  EXPECT_FALSE(PortalResponse(bhttp::verb::put, "/", 11).has_value());
}

// The Content-Security-Policy allows no inline script or style, so the page must have none.
TEST(PortalPageTest, IndexHasNoInlineCode) {
  const PortalAsset* index = FindPortalAsset("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->body.find("<script>"), std::string_view::npos);
  EXPECT_EQ(index->body.find("<style"), std::string_view::npos);
  EXPECT_EQ(index->body.find(" style="), std::string_view::npos);
  EXPECT_EQ(index->body.find(" onclick="), std::string_view::npos);
}

}  // namespace
}  // namespace credgate::app
