#include "app/portal_oidc_sessions.h"

#include <gtest/gtest.h>

#include "credentials/pkce.h"

namespace credgate::app {
namespace {

// A repeatable random source: each Fill writes an incrementing counter.
class CountingRandom final : public RandomSource {
 public:
  void Fill(std::span<uint8_t> out) override {
    ++counter_;
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(counter_ + i);
  }

 private:
  uint8_t counter_ = 0;
};

class PortalOidcSessionsTest : public ::testing::Test {
 protected:
  static PortalOidcSessions::Options SmallOptions() {
    PortalOidcSessions::Options options;
    options.max_pending_sign_ins = 2;
    options.max_sessions = 2;
    return options;
  }

  PortalSignInStart Begin() { return sessions_.BeginSignIn().value(); }

  CreatedPortalSession Create(std::chrono::seconds token_lifetime = std::chrono::hours(1)) {
    return sessions_.CreateSession(Secret("header.payload.signature"), "alice",
                                   clock_.Now() + token_lifetime)
        .value();
  }

  FakeClock clock_;
  CountingRandom random_;
  PortalOidcSessions sessions_{clock_, random_, SmallOptions()};
};

TEST_F(PortalOidcSessionsTest, CompleteReturnsNonceAndVerifier) {
  PortalSignInStart start = Begin();
  auto pending = sessions_.CompleteSignIn(start.state, start.binding.Expose());
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  EXPECT_EQ(pending->nonce, start.nonce);
  EXPECT_TRUE(credentials::IsValidCodeVerifier(pending->code_verifier.Expose()));
  EXPECT_EQ(credentials::ComputeS256Challenge(pending->code_verifier.Expose()),
            start.code_challenge);
}

TEST_F(PortalOidcSessionsTest, HandlesAreDistinct) {
  PortalSignInStart start = Begin();
  EXPECT_EQ(start.state.size(), 43u);
  EXPECT_NE(start.state, start.nonce);
  EXPECT_FALSE(start.binding.Equals(start.state));
  EXPECT_FALSE(start.binding.Equals(start.nonce));
}

TEST_F(PortalOidcSessionsTest, StateIsSingleUse) {
  PortalSignInStart start = Begin();
  ASSERT_TRUE(sessions_.CompleteSignIn(start.state, start.binding.Expose()).ok());
  auto replay = sessions_.CompleteSignIn(start.state, start.binding.Expose());
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(replay.error().reason, "InvalidState");
}

TEST_F(PortalOidcSessionsTest, UnknownStateIsNotFound) {
  Begin();
  auto result = sessions_.CompleteSignIn("tampered-state", "whatever");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
}

TEST_F(PortalOidcSessionsTest, WrongBindingIsRejectedAndConsumes) {
  PortalSignInStart start = Begin();
  auto wrong = sessions_.CompleteSignIn(start.state, "another-browser");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kPermissionDenied);
  auto retry = sessions_.CompleteSignIn(start.state, start.binding.Expose());
  ASSERT_FALSE(retry.ok());
  EXPECT_EQ(retry.error().code, ErrorCode::kNotFound);
}

TEST_F(PortalOidcSessionsTest, MissingBindingIsRejected) {
  PortalSignInStart start = Begin();
  auto result = sessions_.CompleteSignIn(start.state, "");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kPermissionDenied);
}

TEST_F(PortalOidcSessionsTest, ExpiredSignInFails) {
  PortalSignInStart start = Begin();
  clock_.Advance(std::chrono::minutes(10));
  auto result = sessions_.CompleteSignIn(start.state, start.binding.Expose());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(PortalOidcSessionsTest, PendingSignInsAreBounded) {
  Begin();
  Begin();
  auto third = sessions_.BeginSignIn();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(sessions_.PendingSignInCount(), 2u);
}

TEST_F(PortalOidcSessionsTest, SessionFoundWithToken) {
  CreatedPortalSession created = Create();
  auto session = sessions_.FindSession(created.session_id.Expose());
  ASSERT_TRUE(session.ok()) << session.error().message;
  EXPECT_TRUE(session->id_token.Equals("header.payload.signature"));
  EXPECT_TRUE(session->csrf_token == created.csrf_token);
  EXPECT_EQ(session->principal, "alice");
}

TEST_F(PortalOidcSessionsTest, SessionIdAndCsrfTokenDiffer) {
  CreatedPortalSession created = Create();
  EXPECT_FALSE(created.session_id == created.csrf_token);
  auto by_csrf = sessions_.FindSession(created.csrf_token.Expose());
  EXPECT_FALSE(by_csrf.ok());
}

TEST_F(PortalOidcSessionsTest, UnknownSessionIsUnauthenticated) {
  Create();
  auto session = sessions_.FindSession("made-up");
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(PortalOidcSessionsTest, SessionEndsWithToken) {
  CreatedPortalSession created = Create(std::chrono::minutes(5));
  clock_.Advance(std::chrono::minutes(4));
  EXPECT_TRUE(sessions_.FindSession(created.session_id.Expose()).ok());
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_FALSE(sessions_.FindSession(created.session_id.Expose()).ok());
}

TEST_F(PortalOidcSessionsTest, SessionEndsAtMaxLifetime) {
  CreatedPortalSession created = Create(std::chrono::hours(24));
  clock_.Advance(std::chrono::hours(8) - std::chrono::seconds(1));
  EXPECT_TRUE(sessions_.FindSession(created.session_id.Expose()).ok());
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(sessions_.FindSession(created.session_id.Expose()).ok());
}

TEST_F(PortalOidcSessionsTest, ExpiredTokenStartsNoSession) {
  auto created = sessions_.CreateSession(Secret("a.b.c"), "alice", clock_.Now());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(PortalOidcSessionsTest, EndSessionSignsOut) {
  CreatedPortalSession created = Create();
  EXPECT_TRUE(sessions_.EndSession(created.session_id.Expose()));
  EXPECT_FALSE(sessions_.FindSession(created.session_id.Expose()).ok());
  EXPECT_FALSE(sessions_.EndSession(created.session_id.Expose()));
  EXPECT_EQ(sessions_.SessionCount(), 0u);
}

TEST_F(PortalOidcSessionsTest, SessionsAreBounded) {
  Create();
  Create();
  auto third = sessions_.CreateSession(Secret("a.b.c"), "carol", clock_.Now() + std::chrono::hours(1));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace credgate::app
