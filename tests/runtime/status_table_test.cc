// ConnectionStatusTable: a stored status reads back as it was set, whether it is the compact
// Connected form or an error, and a key without one reads as Unauthenticated, or as Connected
// when the table reads Connected from a token manager that has the key's tokens.
#include <gtest/gtest.h>

#include "common/clock.h"
#include "credentials/token_client.h"
#include "credentials/token_manager.h"
#include "fake_http_client.h"
#include "fake_persistence.h"
#include "runtime/state.h"

namespace credgate::runtime {
namespace {

using management::ConnectionState;

TEST(StatusTable, MissingKeyIsUnauthenticated) {
  ConnectionStatusTable table;
  const ConnectionState state = table.Get("github/alice");
  EXPECT_FALSE(state.connected);
  EXPECT_EQ(state.error_code, "Unauthenticated");
  EXPECT_FALSE(state.error_message.empty());
}

TEST(StatusTable, ConnectedReadsBack) {
  ConnectionStatusTable table;
  table.Set("github/alice", ConnectionState{true, "", ""});
  const ConnectionState state = table.Get("github/alice");
  EXPECT_TRUE(state.connected);
  EXPECT_EQ(state.error_code, "");
  EXPECT_EQ(state.error_message, "");
}

TEST(StatusTable, ErrorReadsBack) {
  ConnectionStatusTable table;
  table.Set("github/alice", ConnectionState{false, "ReloginRequired", "sign in again"});
  const ConnectionState state = table.Get("github/alice");
  EXPECT_FALSE(state.connected);
  EXPECT_EQ(state.error_code, "ReloginRequired");
  EXPECT_EQ(state.error_message, "sign in again");
}

TEST(StatusTable, ConnectedWithMessageKeepsIt) {
  ConnectionStatusTable table;
  table.Set("github/alice", ConnectionState{true, "", "recovered"});
  EXPECT_TRUE(table.Get("github/alice").connected);
  EXPECT_EQ(table.Get("github/alice").error_message, "recovered");
}

TEST(StatusTable, SetReplacesError) {
  ConnectionStatusTable table;
  table.Set("github/alice", ConnectionState{false, "RefreshFailed", "provider down"});
  table.Set("github/alice", ConnectionState{true, "", ""});
  const ConnectionState state = table.Get("github/alice");
  EXPECT_TRUE(state.connected);
  EXPECT_EQ(state.error_code, "");
}

TEST(StatusTable, CountByStatus) {
  ConnectionStatusTable table;
  table.Set("github/alice", ConnectionState{true, "", ""});
  table.Set("github/bob", ConnectionState{true, "", ""});
  table.Set("github/carol", ConnectionState{false, "ReloginRequired", "sign in again"});
  const auto counts = table.CountByStatus();
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts.at("Connected"), 2u);
  EXPECT_EQ(counts.at("ReloginRequired"), 1u);
}

TEST(StatusTable, RemovePrefixKeepsOthers) {
  ConnectionStatusTable table;
  table.Set("github/alice", ConnectionState{true, "", ""});
  table.Set("gitlab/alice", ConnectionState{false, "RefreshFailed", "provider down"});
  table.RemovePrefix("github/");
  EXPECT_EQ(table.Get("github/alice").error_code, "Unauthenticated");
  EXPECT_EQ(table.Get("gitlab/alice").error_code, "RefreshFailed");
  table.Remove("gitlab/alice");
  EXPECT_EQ(table.Get("gitlab/alice").error_code, "Unauthenticated");
}

// A table that reads Connected from a token manager, and that manager.
class StatusWithTokensTest : public ::testing::Test {
 protected:
  StatusWithTokensTest() { table_.ReadConnectedFromTokens(&tokens_); }

  void GiveTokens(const std::string& key) {
    credentials::TokenSet tokens;
    tokens.access_token = Secret("access-" + key);
    tokens.obtained_at = clock_.Now();
    tokens_.SetTokens(key, std::move(tokens));
  }

  FakeClock clock_;
  credentials::testing::FakeHttpClient http_;
  credentials::TokenClient client_{http_, clock_};
  credentials::testing::FakePersistence persistence_;
  credentials::TokenManager tokens_{client_, persistence_, clock_};
  ConnectionStatusTable table_;
};

TEST_F(StatusWithTokensTest, TokensWithoutStatusReadConnected) {
  GiveTokens("github/alice");
  EXPECT_TRUE(table_.Get("github/alice").connected);
  EXPECT_EQ(table_.Get("github/bob").error_code, "Unauthenticated");
}

TEST_F(StatusWithTokensTest, ConnectedBeforeTokensIsKept) {
  // A sign-in stores the Connected status before the token manager receives the tokens.
  table_.Set("github/alice", ConnectionState{true, "", ""});
  EXPECT_TRUE(table_.Get("github/alice").connected);
  GiveTokens("github/alice");
  table_.Set("github/alice", ConnectionState{true, "", ""});
  EXPECT_TRUE(table_.Get("github/alice").connected);
}

TEST_F(StatusWithTokensTest, ErrorOverridesTokens) {
  GiveTokens("github/alice");
  table_.Set("github/alice", ConnectionState{false, "ReloginRequired", "sign in again"});
  EXPECT_EQ(table_.Get("github/alice").error_code, "ReloginRequired");
  table_.Set("github/alice", ConnectionState{true, "", ""});
  EXPECT_TRUE(table_.Get("github/alice").connected);
  EXPECT_EQ(table_.Get("github/alice").error_code, "");
}

TEST_F(StatusWithTokensTest, GetStoredSkipsDerivedStatus) {
  GiveTokens("github/alice");
  table_.Set("github/alice", ConnectionState{true, "", ""});
  table_.Set("github/bob", ConnectionState{false, "RefreshFailed", "provider down"});
  EXPECT_FALSE(table_.GetStored("github/alice").has_value());
  ASSERT_TRUE(table_.GetStored("github/bob").has_value());
  EXPECT_EQ(table_.GetStored("github/bob")->error_code, "RefreshFailed");
  EXPECT_FALSE(table_.GetStored("github/carol").has_value());
}

TEST_F(StatusWithTokensTest, RemovedTokensReadUnauthenticated) {
  GiveTokens("github/alice");
  table_.Set("github/alice", ConnectionState{true, "", ""});
  tokens_.Remove("github/alice");
  EXPECT_EQ(table_.Get("github/alice").error_code, "Unauthenticated");
}

TEST_F(StatusWithTokensTest, CountByStatusCountsEachConnectionOnce) {
  GiveTokens("github/alice");
  GiveTokens("github/bob");
  GiveTokens("github/carol");
  table_.Set("github/alice", ConnectionState{true, "", ""});  // Implied by the tokens.
  table_.Set("github/carol", ConnectionState{false, "RefreshFailed", "provider down"});
  table_.Set("github/dave", ConnectionState{true, "", ""});  // No tokens yet.
  table_.Set("github/erin", ConnectionState{false, "TokensUnreadable", "sign in again"});
  const auto counts = table_.CountByStatus();
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts.at("Connected"), 3u);  // alice, bob and dave.
  EXPECT_EQ(counts.at("RefreshFailed"), 1u);
  EXPECT_EQ(counts.at("TokensUnreadable"), 1u);
}

}  // namespace
}  // namespace credgate::runtime
