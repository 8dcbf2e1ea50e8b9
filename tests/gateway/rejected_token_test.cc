#include "gateway/rejected_token.h"

#include <gtest/gtest.h>

namespace credgate::gateway {
namespace {

namespace bhttp = boost::beast::http;

IssuedToken Issued(std::string key, std::string access_token) {
  credentials::TokenSet tokens;
  tokens.access_token = Secret(std::move(access_token));
  return IssuedToken{std::move(key), std::make_shared<const credentials::TokenSet>(tokens)};
}

TEST(FindBearer, MatchesIssuedToken) {
  const std::vector<IssuedToken> issued = {Issued("github/alice", "token-a"),
                                           Issued("slack/bob", "token-b")};
  const IssuedToken* found = FindBearer(issued, "Bearer token-b");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->connection_key, "slack/bob");
}

TEST(FindBearer, SchemeIsCaseInsensitive) {
  const std::vector<IssuedToken> issued = {Issued("github/alice", "token-a")};
  EXPECT_NE(FindBearer(issued, "bearer token-a"), nullptr);
  EXPECT_NE(FindBearer(issued, "BEARER  token-a "), nullptr);
}

TEST(FindBearer, IgnoresOtherValues) {
  const std::vector<IssuedToken> issued = {Issued("github/alice", "token-a")};
  EXPECT_EQ(FindBearer(issued, "Bearer token-c"), nullptr);
  EXPECT_EQ(FindBearer(issued, "Basic token-a"), nullptr);
  EXPECT_EQ(FindBearer(issued, "token-a"), nullptr);
  EXPECT_EQ(FindBearer(issued, "Bearer "), nullptr);
  EXPECT_EQ(FindBearer(issued, ""), nullptr);
  EXPECT_EQ(FindBearer(issued, "Bearer token-a-longer"), nullptr);
  EXPECT_EQ(FindBearer({}, "Bearer token-a"), nullptr);
}

TEST(IsReplayable, IdempotentMethodsWithoutBody) {
  for (bhttp::verb method : {bhttp::verb::get, bhttp::verb::head, bhttp::verb::options,
                             bhttp::verb::put, bhttp::verb::delete_}) {
    EXPECT_TRUE(IsReplayable(method, false)) << bhttp::to_string(method);
    EXPECT_FALSE(IsReplayable(method, true)) << bhttp::to_string(method);
  }
}

TEST(IsReplayable, OtherMethodsNever) {
  for (bhttp::verb method : {bhttp::verb::post, bhttp::verb::patch, bhttp::verb::trace,
                             bhttp::verb::connect, bhttp::verb::unknown}) {
    EXPECT_FALSE(IsReplayable(method, false)) << bhttp::to_string(method);
  }
}

}  // namespace
}  // namespace credgate::gateway
