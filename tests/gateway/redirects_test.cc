#include "gateway/redirects.h"

#include <gtest/gtest.h>

namespace credgate::gateway {
namespace {

namespace bhttp = boost::beast::http;

http::Origin BackendOrigin() {
  return http::ParseHttpUrl("http://backend.test:8080/").value().origin;
}

http::RequestHeader Request(bhttp::verb method) {
  http::RequestHeader header;
  header.method(method);
  header.target("/orders/7?view=full");
  header.set(bhttp::field::authorization, "Bearer backend-token");
  header.set(bhttp::field::cookie, "session=1");
  header.set(bhttp::field::content_type, "application/json");
  header.set(bhttp::field::content_length, "12");
  return header;
}

TEST(RedirectsTest, FollowsOnlyRedirectStatuses) {
  for (int status : {301, 302, 303, 307, 308}) EXPECT_TRUE(IsFollowedRedirect(status)) << status;
  for (int status : {200, 300, 304, 305, 306, 401})
    EXPECT_FALSE(IsFollowedRedirect(status)) << status;
}

TEST(RedirectsTest, RelativeLocationKeepsOriginAndCredentials) {
  auto next = FollowRedirect(BackendOrigin(), Request(bhttp::verb::get), 302, "../v2/orders/7");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->origin.Key(), "http://backend.test:8080");
  EXPECT_EQ(next->header.target(), "/v2/orders/7");
  EXPECT_EQ(next->header[bhttp::field::authorization], "Bearer backend-token");
  EXPECT_TRUE(next->keeps_body);
}

TEST(RedirectsTest, OtherOriginDropsCredentials) {
  auto next = FollowRedirect(BackendOrigin(), Request(bhttp::verb::get), 307,
                             "https://elsewhere.test/orders?id=7#top");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->origin.Key(), "https://elsewhere.test:443");
  EXPECT_EQ(next->header.target(), "/orders?id=7");
  EXPECT_EQ(next->header.count(bhttp::field::authorization), 0u);
  EXPECT_EQ(next->header.count(bhttp::field::cookie), 0u);
}

TEST(RedirectsTest, SeeOtherTurnsPostIntoGet) {
  auto next = FollowRedirect(BackendOrigin(), Request(bhttp::verb::post), 303, "/receipts/7");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->header.method(), bhttp::verb::get);
  EXPECT_FALSE(next->keeps_body);
  EXPECT_EQ(next->header.count(bhttp::field::content_type), 0u);
  EXPECT_EQ(next->header.count(bhttp::field::content_length), 0u);
}

TEST(RedirectsTest, TemporaryRedirectKeepsPostAndBody) {
  auto next = FollowRedirect(BackendOrigin(), Request(bhttp::verb::post), 307, "/orders/8");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->header.method(), bhttp::verb::post);
  EXPECT_TRUE(next->keeps_body);
  EXPECT_EQ(next->header[bhttp::field::content_type], "application/json");
}

TEST(RedirectsTest, InvalidLocationsAreErrors) {
  for (std::string_view location : {"http://[broken", "ftp://files.test/x", "mailto:a@b.test"}) {
    auto next = FollowRedirect(BackendOrigin(), Request(bhttp::verb::get), 302, location);
    EXPECT_FALSE(next.ok()) << location;
  }
}

}  // namespace
}  // namespace credgate::gateway
