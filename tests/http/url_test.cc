#include "http/url.h"

#include <gtest/gtest.h>

namespace credgate::http {
namespace {

TEST(ParseHttpUrl, SplitsOriginPathAndQuery) {
  auto url = ParseHttpUrl("https://Login.Example.com:8443/oauth2/token?a=1&b=2");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_TRUE(url->origin.tls);
  EXPECT_EQ(url->origin.host, "login.example.com");
  EXPECT_EQ(url->origin.port, 8443);
  EXPECT_EQ(url->Target(), "/oauth2/token?a=1&b=2");
  EXPECT_EQ(url->origin.Authority(), "login.example.com:8443");
}

TEST(ParseHttpUrl, DefaultsPortAndPath) {
  auto url = ParseHttpUrl("http://example.com");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->origin.port, 80);
  EXPECT_EQ(url->Target(), "/");
  EXPECT_EQ(url->origin.Authority(), "example.com");
}

TEST(ParseHttpUrl, RejectsNameStartingWithAddress) {
  for (const char* url : {"http://127.0.0.1.nip.io/token", "https://10.1.2.3.example.com/",
                          "http://127.0.0.1:80.example/x"}) {
    auto parsed = ParseHttpUrl(url);
    ASSERT_FALSE(parsed.ok()) << url << " parsed as host " << parsed->origin.host;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

TEST(ParseHttpUrl, Ipv6Literal) {
  auto url = ParseHttpUrl("http://[::1]:8080/x");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->origin.host, "::1");
  EXPECT_TRUE(url->origin.host_is_ip);
  EXPECT_EQ(url->origin.Authority(), "[::1]:8080");
}

struct OriginCase {
  const char* url;
  const char* authority;
  const char* key;
};

TEST(Origin, AuthorityAndKeyTable) {
  const OriginCase cases[] = {
      {"http://example.com/", "example.com", "http://example.com:80"},
      {"https://example.com/", "example.com", "https://example.com:443"},
      {"http://example.com:443/", "example.com:443", "http://example.com:443"},
      {"https://127.0.0.1:8443/", "127.0.0.1:8443", "https://127.0.0.1:8443"},
      {"http://[::1]/", "[::1]", "http://[::1]:80"},
      {"https://[2001:db8::1]:65535/", "[2001:db8::1]:65535", "https://[2001:db8::1]:65535"},
  };
  for (const OriginCase& c : cases) {
    auto url = ParseHttpUrl(c.url);
    ASSERT_TRUE(url.ok()) << c.url;
    EXPECT_EQ(url->origin.Authority(), c.authority) << c.url;
    EXPECT_EQ(url->origin.Key(), c.key) << c.url;
  }
}

struct ComposeCase {
  const char* base;
  const char* rest;
  const char* query;
  const char* expected;
};

TEST(ComposeTarget, Table) {
  const ComposeCase cases[] = {
      {"/base", "/users/1", "", "/base/users/1"},
      {"/base/", "/users/1", "", "/base/users/1"},
      {"/base", "users/1", "", "/base/users/1"},
      {"/base/", "users", "", "/base/users"},
      {"/base", "", "", "/base"},
      {"/", "/x", "", "/x"},
      {"", "/x", "q=1", "/x?q=1"},
      {"/base", "/x", "a=1&b=2", "/base/x?a=1&b=2"},
  };
  for (const ComposeCase& c : cases) {
    EXPECT_EQ(ComposeTarget(c.base, "", c.rest, c.query), c.expected) << c.base << " + " << c.rest;
  }
  EXPECT_EQ(ComposeTarget("/api", "v=2", "/x", "q=1"), "/api/x?v=2&q=1");
}

}  // namespace
}  // namespace credgate::http
