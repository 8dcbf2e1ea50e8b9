#include "identity/claims.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "identity/identity_errors.h"

namespace credgate::identity {
namespace {

constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z.

class ClaimsTest : public ::testing::Test {
 protected:
  ClaimsTest() {
    issuer_.id = "entra";
    issuer_.issuer = "https://login.example/tenant/v2.0";
    issuer_.audiences = {"api://credgate", "credgate-client"};
    payload_ = {{"iss", issuer_.issuer}, {"aud", "api://credgate"}, {"sub", "subject-1"},
                {"oid", "object-1"},     {"tid", "tenant-1"},       {"azp", "app-1"},
                {"iat", kNow - 60},      {"nbf", kNow - 60},        {"exp", kNow + 3600}};
  }

  Result<CallerIdentity> Check() const {
    return CheckClaims(payload_, issuer_, FromUnixSeconds(kNow));
  }

  // Asserts that Check() fails with `reason` and a message containing `message_part`.
  void ExpectRejected(std::string_view reason, std::string_view message_part) const {
    Result<CallerIdentity> identity = Check();
    ASSERT_FALSE(identity.ok());
    EXPECT_EQ(identity.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(identity.error().reason, reason);
    EXPECT_NE(identity.error().message.find(message_part), std::string::npos)
        << identity.error().message;
  }

  TrustedIssuer issuer_;
  boost::json::object payload_;
};

TEST_F(ClaimsTest, BuildsIdentity) {
  Result<CallerIdentity> identity = Check();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(identity->issuer_id, "entra");
  EXPECT_EQ(identity->issuer, issuer_.issuer);
  EXPECT_EQ(identity->subject, "subject-1");
  EXPECT_EQ(identity->object_id, "object-1");
  EXPECT_EQ(identity->tenant_id, "tenant-1");
  EXPECT_EQ(identity->app_id, "app-1");
  EXPECT_EQ(identity->expires_at, FromUnixSeconds(kNow + 3600));
  EXPECT_TRUE(identity->groups.empty());
  EXPECT_FALSE(identity->groups_overage);
  EXPECT_EQ(identity->payload.at("tid").as_string(), "tenant-1");
}

TEST_F(ClaimsTest, FallsBackToSubAndAppid) {
  payload_.erase("oid");
  payload_.erase("azp");
  payload_["appid"] = "app-2";
  Result<CallerIdentity> identity = Check();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(identity->object_id, "subject-1");
  EXPECT_EQ(identity->app_id, "app-2");
}

TEST_F(ClaimsTest, UsesConfiguredClaimNames) {
  issuer_.claims.object_id = "uid";
  payload_["uid"] = "custom-1";
  Result<CallerIdentity> identity = Check();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(identity->object_id, "custom-1");
}

TEST_F(ClaimsTest, RejectsMissingObjectId) {
  payload_.erase("oid");
  payload_.erase("sub");
  ExpectRejected(kReasonInvalidJwt, "neither 'oid' nor 'sub'");
}

TEST_F(ClaimsTest, ReadsGroups) {
  payload_["groups"] = boost::json::array{"g1", "g2"};
  Result<CallerIdentity> identity = Check();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(identity->groups, (std::vector<std::string>{"g1", "g2"}));
}

TEST_F(ClaimsTest, RejectsNonStringGroup) {
  payload_["groups"] = boost::json::array{"g1", 2};
  ExpectRejected(kReasonInvalidJwt, "'groups'");
}

TEST_F(ClaimsTest, FlagsOverageByClaimNames) {
  payload_["_claim_names"] = boost::json::object{{"groups", "src1"}};
  payload_["_claim_sources"] = boost::json::object{{"src1", {{"endpoint", "https://graph"}}}};
  Result<CallerIdentity> identity = Check();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_TRUE(identity->groups_overage);
  EXPECT_TRUE(identity->groups.empty());
}

TEST_F(ClaimsTest, FlagsOverageByHasgroups) {
  payload_["hasgroups"] = true;
  Result<CallerIdentity> identity = Check();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_TRUE(identity->groups_overage);
}

TEST_F(ClaimsTest, AcceptsAudienceArray) {
  payload_["aud"] = boost::json::array{"other", "credgate-client"};
  EXPECT_TRUE(Check().ok());
}

TEST_F(ClaimsTest, RejectsOtherAudience) {
  payload_["aud"] = "api://other";
  ExpectRejected(kReasonInvalidAudience,
                 "audience 'api://other' is not accepted by issuer 'entra'");
}

TEST_F(ClaimsTest, RejectsMissingAudience) {
  payload_.erase("aud");
  ExpectRejected(kReasonInvalidAudience, "no 'aud'");
}

TEST_F(ClaimsTest, RejectsIssuerWithTrailingSlash) {
  payload_["iss"] = issuer_.issuer + "/";
  ExpectRejected(kReasonUntrustedIssuer, "'iss'");
}

TEST_F(ClaimsTest, RejectsExpired) {
  payload_["exp"] = kNow - 61;
  ExpectRejected(kReasonTokenExpired, "token expired at 2027-01-15T07:58:59Z");
}

TEST_F(ClaimsTest, AcceptsExpiredWithinSkew) {
  payload_["exp"] = kNow - 59;
  EXPECT_TRUE(Check().ok());
}

TEST_F(ClaimsTest, RejectsNotYetValid) {
  payload_["nbf"] = kNow + 61;
  ExpectRejected(kReasonTokenNotYetValid, "not valid before");
}

TEST_F(ClaimsTest, AcceptsNbfWithinSkew) {
  payload_["nbf"] = kNow + 59;
  EXPECT_TRUE(Check().ok());
}

TEST_F(ClaimsTest, RejectsFarFutureIat) {
  payload_["iat"] = kNow + 3600;
  ExpectRejected(kReasonTokenNotYetValid, "issued in the future");
}

TEST_F(ClaimsTest, AcceptsIatWithinSkew) {
  payload_["iat"] = kNow + 30;
  EXPECT_TRUE(Check().ok());
}

TEST_F(ClaimsTest, HonoursConfiguredSkew) {
  issuer_.clock_skew = std::chrono::seconds(0);
  payload_["exp"] = kNow - 1;
  ExpectRejected(kReasonTokenExpired, "token expired");
}

TEST_F(ClaimsTest, AcceptsFractionalExp) {
  payload_["exp"] = static_cast<double>(kNow) + 100.5;
  Result<CallerIdentity> identity = Check();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(identity->expires_at, FromUnixSeconds(kNow + 100));
}

TEST_F(ClaimsTest, RejectsMissingExp) {
  payload_.erase("exp");
  ExpectRejected(kReasonInvalidJwt, "no 'exp'");
}

TEST_F(ClaimsTest, RejectsNonNumericDates) {
  for (const char* claim : {"exp", "nbf", "iat"}) {
    SCOPED_TRACE(claim);
    boost::json::object saved = payload_;
    payload_[claim] = std::to_string(kNow + 3600);
    ExpectRejected(kReasonInvalidJwt, "is not a number");
    payload_ = saved;
  }
}

TEST_F(ClaimsTest, RejectsOutOfRangeExp) {
  payload_["exp"] = 1e300;
  ExpectRejected(kReasonInvalidJwt, "outside the supported date range");
}

// 2280-07-19: representable as a NumericDate, but past the end of a nanosecond TimePoint, so
// converting it would overflow. Found by fuzz/jwt_fuzzer.cc.
TEST_F(ClaimsTest, RejectsDatesPastTimePointRange) {
  for (const char* claim : {"exp", "nbf", "iat"}) {
    payload_[claim] = 9'799'999'940;
    ExpectRejected(kReasonInvalidJwt, "outside the supported date range");
    payload_[claim] = kNow;
  }
}

TEST_F(ClaimsTest, RejectsNonStringSub) {
  payload_["sub"] = 12;
  ExpectRejected(kReasonInvalidJwt, "'sub'");
}

TEST(FormatUtc, FormatsRfc3339) {
  EXPECT_EQ(FormatUtc(FromUnixSeconds(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(FromUnixSeconds(1'796'360'400)), "2026-12-04T05:00:00Z");
}

}  // namespace
}  // namespace credgate::identity
