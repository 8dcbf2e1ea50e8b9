// ConnectionStatusTable: a stored status reads back as it was set, whether it is the compact
// Connected form or an error, and a key without one reads as Unauthenticated.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace credgate::runtime
