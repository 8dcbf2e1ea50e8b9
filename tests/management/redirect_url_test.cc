#include "management/redirect_url.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace credgate::management {
namespace {

const std::vector<std::string> kAllowList = {"https://app.example.com/done",
                                             "http://127.0.0.1:9000/back?x=1"};

struct AcceptedCase {
  const char* url;
  const char* normalized;
};

class RedirectAcceptedTest : public testing::TestWithParam<AcceptedCase> {};

TEST_P(RedirectAcceptedTest, NormalisesToAllowedEntry) {
  const AcceptedCase& c = GetParam();
  auto result = CheckPostLoginRedirect(c.url, kAllowList);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, c.normalized);
}

INSTANTIATE_TEST_SUITE_P(
    Spellings, RedirectAcceptedTest,
    testing::Values(
        AcceptedCase{"https://app.example.com/done", "https://app.example.com/done"},
        AcceptedCase{"HTTPS://APP.Example.COM/done", "https://app.example.com/done"},
        AcceptedCase{"https://app.example.com:443/done", "https://app.example.com/done"},
        AcceptedCase{"https://app.example.com./done", "https://app.example.com/done"},
        AcceptedCase{"https://app.example.com/x/../done", "https://app.example.com/done"},
        AcceptedCase{"https://app.example.com/%64one", "https://app.example.com/done"},
        AcceptedCase{"http://127.0.0.1:9000/back?x=1", "http://127.0.0.1:9000/back?x=1"}));

// 2,049 characters, one more than NormalizeRedirectUrl accepts.
const std::string kTooLongText = "https://app.example.com/done?" + std::string(2049 - 29, 'x');
const char* const kTooLong = kTooLongText.c_str();

struct RejectedCase {
  const char* name;
  const char* url;
};

class RedirectRejectedTest : public testing::TestWithParam<RejectedCase> {};

TEST_P(RedirectRejectedTest, IsRejected) {
  const RejectedCase& c = GetParam();
  auto result = CheckPostLoginRedirect(c.url, kAllowList);
  ASSERT_FALSE(result.ok()) << c.url << " was accepted as " << *result;
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().reason, "ValidationError");
}

// Each URL either names another host to a browser, runs script, or differs from the entry.
INSTANTIATE_TEST_SUITE_P(
    Attacks, RedirectRejectedTest,
    testing::Values(
        RejectedCase{"SchemeRelative", "//evil.example/done"},
        RejectedCase{"SlashBackslash", "/\\evil.example/done"},
        RejectedCase{"BackslashAuthority", "https:\\\\evil.example/done"},
        RejectedCase{"BackslashInPath", "https://app.example.com\\@evil.example/done"},
        RejectedCase{"EncodedSlashes", "https://app.example.com/%2f%2fevil.example"},
        RejectedCase{"EncodedSlashesUpper", "https://app.example.com/%2F%2Fevil.example"},
        RejectedCase{"EncodedBackslash", "https://app.example.com/%5cevil.example"},
        RejectedCase{"EncodedNewline", "https://app.example.com/done%0d%0aLocation:x"},
        RejectedCase{"Userinfo", "https://app.example.com@evil.example/done"},
        RejectedCase{"UserinfoWithPassword", "https://app.example.com:443@evil.example/done"},
        RejectedCase{"UserinfoOnAllowedHost", "https://user@app.example.com/done"},
        RejectedCase{"JavascriptScheme", "javascript:alert(1)//app.example.com/done"},
        RejectedCase{"DataScheme", "data:text/html,<script>alert(1)</script>"},
        RejectedCase{"FtpScheme", "ftp://app.example.com/done"},
        RejectedCase{"OpaqueHttps", "https:app.example.com/done"},
        RejectedCase{"RelativePath", "/done"}, RejectedCase{"Empty", ""},
        RejectedCase{"Space", "https://app.example.com/done now"},
        RejectedCase{"Tab", "https://app.example.com/\tdone"},
        RejectedCase{"UnicodeHost", "https://\xd0\xb0pp.example.com/done"},
        RejectedCase{"PunycodeLookalike", "https://xn--pp-8cd.example.com/done"},
        RejectedCase{"EncodedHost", "https://app%2eexample.com/done"},
        RejectedCase{"TwoTrailingDots", "https://app.example.com../done"},
        RejectedCase{"EmptyLabel", "https://app..example.com/done"},
        RejectedCase{"SuffixHost", "https://app.example.com.evil.example/done"},
        RejectedCase{"OtherPort", "https://app.example.com:8443/done"},
        RejectedCase{"PortZero", "https://app.example.com:0/done"},
        RejectedCase{"PortTooLarge", "https://app.example.com:70000/done"},
        RejectedCase{"HttpForHttpsEntry", "http://app.example.com/done"},
        RejectedCase{"Fragment", "https://app.example.com/done#x"},
        RejectedCase{"Ipv6Literal", "https://[::1]/done"},
        RejectedCase{"OtherPath", "https://app.example.com/done/"},
        RejectedCase{"ExtraQuery", "https://app.example.com/done?next=https://evil.example"},
        RejectedCase{"TooLong", kTooLong}),
    [](const testing::TestParamInfo<RejectedCase>& info) { return std::string(info.param.name); });

TEST(RedirectAllowList, InvalidEntryMatchesNothing) {
  const std::vector<std::string> allow_list = {"https://user@app.example.com/done"};
  EXPECT_FALSE(CheckPostLoginRedirect("https://app.example.com/done", allow_list).ok());
}

TEST(RedirectAllowList, NotListedNamesFix) {
  auto result = CheckPostLoginRedirect("https://other.example.com/done", kAllowList);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("--post-login-redirect-allow"), std::string::npos);
}

TEST(NormalizeRedirectUrl, EmptyPathBecomesSlash) {
  auto result = NormalizeRedirectUrl("https://App.Example.com");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, "https://app.example.com/");
}

TEST(NormalizeRedirectUrl, SlashGoesBeforeQuery) {
  auto result = NormalizeRedirectUrl("https://app.example.com?x=1");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, "https://app.example.com/?x=1");
}

}  // namespace
}  // namespace credgate::management
