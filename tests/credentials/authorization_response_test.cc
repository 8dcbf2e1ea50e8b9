#include "credentials/authorization_response.h"

#include <gtest/gtest.h>

#include <string>

namespace credgate::credentials {
namespace {

constexpr std::string_view kIssuer = "https://as.example.com";

ProviderConfig Provider(std::string issuer, bool require_iss) {
  ProviderConfig provider;
  provider.id = "backend";
  provider.issuer = std::move(issuer);
  provider.require_iss_parameter = require_iss;
  return provider;
}

struct IssuerCase {
  const char* name;
  const char* issuer;  // The provider's issuer; "" when unknown.
  bool require_iss;
  FormFields response;
  const char* reason;  // "" when the response is accepted.
};

class IssuerCheckTest : public testing::TestWithParam<IssuerCase> {};

TEST_P(IssuerCheckTest, AcceptsOrRejects) {
  const IssuerCase& c = GetParam();
  Status status = CheckAuthorizationResponseIssuer(Provider(c.issuer, c.require_iss), c.response);
  if (std::string_view(c.reason).empty()) {
    EXPECT_TRUE(status.ok()) << status.error().message;
    return;
  }
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, c.reason);
  EXPECT_NE(status.error().message.find("backend"), std::string::npos) << status.error().message;
}

const FormFields kCodeOnly = {{"code", "c"}, {"state", "s"}};
const FormFields kMatching = {{"code", "c"}, {"state", "s"}, {"iss", std::string(kIssuer)}};

INSTANTIATE_TEST_SUITE_P(
    Rfc9207, IssuerCheckTest,
    testing::Values(IssuerCase{"Matching", kIssuer.data(), false, kMatching, ""},
                    IssuerCase{"MatchingRequired", kIssuer.data(), true, kMatching, ""},
                    IssuerCase{"MissingOptional", kIssuer.data(), false, kCodeOnly, ""},
                    IssuerCase{"MissingRequired", kIssuer.data(), true, kCodeOnly, "IssuerMissing"},
                    IssuerCase{
                        "UnknownIssuer", "", false, {{"iss", "https://any.example.com"}}, ""},
                    IssuerCase{"OtherServer",
                               kIssuer.data(),
                               false,
                               {{"code", "c"}, {"iss", "https://evil.example.com"}},
                               "IssuerMismatch"},
                    IssuerCase{"TrailingSlash",
                               kIssuer.data(),
                               false,
                               {{"iss", "https://as.example.com/"}},
                               "IssuerMismatch"},
                    IssuerCase{"UpperCaseHost",
                               kIssuer.data(),
                               false,
                               {{"iss", "https://AS.example.com"}},
                               "IssuerMismatch"},
                    IssuerCase{"EmptyIss", kIssuer.data(), false, {{"iss", ""}}, "IssuerMismatch"},
                    IssuerCase{"ErrorResponseChecked",
                               kIssuer.data(),
                               false,
                               {{"error", "access_denied"}, {"iss", "https://evil.example.com"}},
                               "IssuerMismatch"},
                    IssuerCase{"Duplicated",
                               kIssuer.data(),
                               false,
                               {{"iss", std::string(kIssuer)}, {"iss", "https://evil.example.com"}},
                               "IssuerDuplicated"}),
    [](const testing::TestParamInfo<IssuerCase>& info) { return std::string(info.param.name); });

TEST(IssuerCheck, MessageOmitsReceivedValue) {
  Status status = CheckAuthorizationResponseIssuer(Provider(std::string(kIssuer), false),
                                                   {{"iss", "https://evil.example.com/<x>"}});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message.find("evil"), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find(kIssuer), std::string::npos);
}

}  // namespace
}  // namespace credgate::credentials
