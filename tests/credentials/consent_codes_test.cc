#include "credentials/consent_codes.h"

#include <gtest/gtest.h>

#include "fake_random.h"

namespace credgate::credentials {
namespace {

class ConsentCodesTest : public ::testing::Test {
 protected:
  ConsentCodes::Options SmallOptions() {
    ConsentCodes::Options options;
    options.max_codes = 2;
    options.max_trusted = 2;
    return options;
  }

  FakeClock clock_;
  credentials::testing::SeededRandom random_{7};
  ConsentCodes codes_{clock_, random_, SmallOptions()};
  const Secret browser_ = codes_.NewBrowserToken();
};

TEST_F(ConsentCodesTest, ConfirmTrustsBrowser) {
  auto code = codes_.Issue("github/alice", browser_);
  ASSERT_TRUE(code.ok());
  EXPECT_FALSE(codes_.IsTrusted("github/alice", browser_.Expose()));
  ASSERT_TRUE(codes_.Confirm("github/alice", *code).ok());
  EXPECT_TRUE(codes_.IsTrusted("github/alice", browser_.Expose()));
  EXPECT_EQ(codes_.counters().confirmed.load(), 1u);
}

TEST_F(ConsentCodesTest, TrustIsPerConnectionAndBrowser) {
  auto code = codes_.Issue("github/alice", browser_);
  ASSERT_TRUE(codes_.Confirm("github/alice", *code).ok());
  EXPECT_FALSE(codes_.IsTrusted("github/bob", browser_.Expose()));
  EXPECT_FALSE(codes_.IsTrusted("github/alice", codes_.NewBrowserToken().Expose()));
  EXPECT_FALSE(codes_.IsTrusted("github/alice", ""));
}

TEST_F(ConsentCodesTest, CodeIsSingleUse) {
  auto code = codes_.Issue("github/alice", browser_);
  ASSERT_TRUE(codes_.Confirm("github/alice", *code).ok());
  Status again = codes_.Confirm("github/alice", *code);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason, "InvalidConsentCode");
  EXPECT_EQ(codes_.counters().rejected.load(), 1u);
}

TEST_F(ConsentCodesTest, OtherConnectionRejectedAndConsumed) {
  auto code = codes_.Issue("github/alice", browser_);
  Status other = codes_.Confirm("github/bob", *code);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(codes_.IsTrusted("github/bob", browser_.Expose()));
  EXPECT_FALSE(codes_.Confirm("github/alice", *code).ok());
}

TEST_F(ConsentCodesTest, UnknownCodeRejected) {
  Status unknown = codes_.Confirm("github/alice", "forged");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().reason, "InvalidConsentCode");
}

TEST_F(ConsentCodesTest, CodeExpires) {
  auto code = codes_.Issue("github/alice", browser_);
  clock_.Advance(std::chrono::minutes(10));
  Status late = codes_.Confirm("github/alice", *code);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
}

TEST_F(ConsentCodesTest, TrustExpires) {
  auto code = codes_.Issue("github/alice", browser_);
  ASSERT_TRUE(codes_.Confirm("github/alice", *code).ok());
  clock_.Advance(std::chrono::hours(8));
  EXPECT_FALSE(codes_.IsTrusted("github/alice", browser_.Expose()));
}

TEST_F(ConsentCodesTest, MaxCodes) {
  ASSERT_TRUE(codes_.Issue("github/a", browser_).ok());
  ASSERT_TRUE(codes_.Issue("github/b", browser_).ok());
  auto third = codes_.Issue("github/c", browser_);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace credgate::credentials
