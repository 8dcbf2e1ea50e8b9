#include "credentials/login_sessions.h"

#include <gtest/gtest.h>

#include "credentials/pkce.h"

namespace credgate::credentials {
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

class LoginSessionsTest : public ::testing::Test {
 protected:
  LoginSessions::Options SmallOptions() {
    LoginSessions::Options options;
    options.max_login_links = 2;
    options.max_pending_authorizations = 2;
    return options;
  }

  std::string CreateLink() { return sessions_.CreateLoginLink("github", "alice", "/done").value(); }
  AuthorizationStart Begin() {
    return sessions_.BeginAuthorization(LoginLinkInfo{"github", "alice", "/done"}).value();
  }

  FakeClock clock_;
  CountingRandom random_;
  LoginSessions sessions_{clock_, random_, SmallOptions()};
};

TEST_F(LoginSessionsTest, LinkIsSingleUse) {
  const std::string token = CreateLink();
  auto info = sessions_.ConsumeLoginLink(token);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->provider_id, "github");
  EXPECT_EQ(info->connection_id, "alice");
  EXPECT_EQ(info->post_login_redirect_url, "/done");
  auto again = sessions_.ConsumeLoginLink(token);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
}

TEST_F(LoginSessionsTest, LinkExpires) {
  const std::string token = CreateLink();
  clock_.Advance(std::chrono::minutes(10));
  auto info = sessions_.ConsumeLoginLink(token);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(LoginSessionsTest, LinkTokenHas32RandomBytes) { EXPECT_EQ(CreateLink().size(), 43u); }

TEST_F(LoginSessionsTest, MaxLinksThenPurge) {
  CreateLink();
  CreateLink();
  auto third = sessions_.CreateLoginLink("github", "bob", "");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kResourceExhausted);
  clock_.Advance(std::chrono::minutes(11));
  EXPECT_TRUE(sessions_.CreateLoginLink("github", "bob", "").ok());
  EXPECT_EQ(sessions_.PendingLinkCount(), 1u);
}

TEST_F(LoginSessionsTest, CompleteReturnsPending) {
  AuthorizationStart start = Begin();
  EXPECT_EQ(start.code_challenge, ComputeS256Challenge(start.code_verifier.Expose()));
  auto pending = sessions_.CompleteAuthorization(start.state, start.binding.Expose());
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  EXPECT_EQ(pending->link.connection_id, "alice");
  EXPECT_TRUE(pending->code_verifier == start.code_verifier);
  EXPECT_EQ(pending->started_at, clock_.Now());
}

TEST_F(LoginSessionsTest, StateIsSingleUse) {
  AuthorizationStart start = Begin();
  ASSERT_TRUE(sessions_.CompleteAuthorization(start.state, start.binding.Expose()).ok());
  auto replay = sessions_.CompleteAuthorization(start.state, start.binding.Expose());
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, ErrorCode::kNotFound);
}

TEST_F(LoginSessionsTest, UnknownState) {
  auto result = sessions_.CompleteAuthorization("forged", "x");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, "AuthorizationStateNotFound");
}

TEST_F(LoginSessionsTest, StateExpires) {
  AuthorizationStart start = Begin();
  clock_.Advance(std::chrono::minutes(10) + std::chrono::seconds(1));
  auto result = sessions_.CompleteAuthorization(start.state, start.binding.Expose());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(LoginSessionsTest, BindingMismatchFailsAndConsumes) {
  AuthorizationStart start = Begin();
  auto other_browser = sessions_.CompleteAuthorization(start.state, "other-cookie");
  ASSERT_FALSE(other_browser.ok());
  EXPECT_EQ(other_browser.error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(sessions_.CompleteAuthorization(start.state, start.binding.Expose()).ok());
}

TEST_F(LoginSessionsTest, MaxPendingAuthorizations) {
  Begin();
  AuthorizationStart second = Begin();
  auto third = sessions_.BeginAuthorization(LoginLinkInfo{"github", "carol", ""});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kResourceExhausted);
  ASSERT_TRUE(sessions_.CompleteAuthorization(second.state, second.binding.Expose()).ok());
  EXPECT_TRUE(sessions_.BeginAuthorization(LoginLinkInfo{"github", "carol", ""}).ok());
}

TEST_F(LoginSessionsTest, StatesAreDistinct) {
  AuthorizationStart a = Begin();
  AuthorizationStart b = Begin();
  EXPECT_NE(a.state, b.state);
  EXPECT_FALSE(a.binding == b.binding);
  EXPECT_FALSE(a.code_verifier == b.code_verifier);
}

TEST_F(LoginSessionsTest, LinkRecordsRequester) {
  auto token = sessions_.CreateLoginLink("github", "alice", "", "admin key 'ops'");
  ASSERT_TRUE(token.ok());
  auto info = sessions_.ConsumeLoginLink(*token);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->requested_by, "admin key 'ops'");
}

class ConsentPromptTest : public LoginSessionsTest {
 protected:
  ConsentPrompt Prompt() {
    return sessions_.BeginConsent(LoginLinkInfo{"github", "alice", "/done", "admin key 'ops'"})
        .value();
  }
};

TEST_F(ConsentPromptTest, AnswerReturnsLink) {
  ConsentPrompt prompt = Prompt();
  auto link =
      sessions_.AnswerConsent(prompt.handle, prompt.binding.Expose(), prompt.form_token.Expose());
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(link->connection_id, "alice");
  EXPECT_EQ(link->requested_by, "admin key 'ops'");
}

TEST_F(ConsentPromptTest, AnsweredOnce) {
  ConsentPrompt prompt = Prompt();
  const auto binding = prompt.binding.Expose();
  const auto form_token = prompt.form_token.Expose();
  ASSERT_TRUE(sessions_.AnswerConsent(prompt.handle, binding, form_token).ok());
  auto again = sessions_.AnswerConsent(prompt.handle, binding, form_token);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason, "ConsentNotFound");
}

TEST_F(ConsentPromptTest, WrongCookieFailsAndConsumes) {
  ConsentPrompt prompt = Prompt();
  auto other = sessions_.AnswerConsent(prompt.handle, "other-cookie", prompt.form_token.Expose());
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(
      sessions_.AnswerConsent(prompt.handle, prompt.binding.Expose(), prompt.form_token.Expose())
          .ok());
}

TEST_F(ConsentPromptTest, WrongFormTokenFails) {
  ConsentPrompt prompt = Prompt();
  auto forged = sessions_.AnswerConsent(prompt.handle, prompt.binding.Expose(), "");
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().reason, "ConsentBindingMismatch");
}

TEST_F(ConsentPromptTest, Expires) {
  ConsentPrompt prompt = Prompt();
  clock_.Advance(std::chrono::minutes(10));
  auto late =
      sessions_.AnswerConsent(prompt.handle, prompt.binding.Expose(), prompt.form_token.Expose());
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(ConsentPromptTest, ValuesAreDistinct) {
  ConsentPrompt prompt = Prompt();
  EXPECT_EQ(prompt.handle.size(), 43u);
  EXPECT_NE(prompt.handle, prompt.binding.Expose());
  EXPECT_FALSE(prompt.binding == prompt.form_token);
}

TEST_F(ConsentPromptTest, MaxPendingPrompts) {
  Prompt();
  Prompt();
  auto third = sessions_.BeginConsent(LoginLinkInfo{"github", "carol", "", ""});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace credgate::credentials
