#include "credentials/access_policy.h"

#include <gtest/gtest.h>

namespace credgate::credentials {
namespace {

const std::vector<AccessPolicy> kPolicies = {
    {"user", "tenant-a", "oid-alice", {}},
    {"group", "tenant-a", "group-ops", {}},
    {"app", "tenant-b", "oid-bob", {"app-1", "app-2"}},
};

CallerClaims Caller(std::string oid, std::string tid, std::string app = "",
                    std::vector<std::string> groups = {}, bool groups_known = true) {
  return CallerClaims{std::move(oid), std::move(tid), std::move(groups), groups_known,
                      std::move(app)};
}

TEST(AccessPolicy, Matrix) {
  struct Case {
    const char* name;
    CallerClaims caller;
    std::string policy;  // "" means denied.
  };
  const Case cases[] = {
      {"object id", Caller("oid-alice", "tenant-a"), "user"},
      {"case-insensitive", Caller("OID-ALICE", "Tenant-A"), "user"},
      {"group", Caller("oid-carol", "tenant-a", "", {"group-x", "group-ops"}), "group"},
      {"group unknown", Caller("oid-carol", "tenant-a", "", {"group-ops"}, false), ""},
      {"tenant mismatch", Caller("oid-alice", "tenant-b"), ""},
      {"app listed", Caller("oid-bob", "tenant-b", "app-2"), "app"},
      {"app not listed", Caller("oid-bob", "tenant-b", "app-3"), ""},
      {"app missing", Caller("oid-bob", "tenant-b"), ""},
      {"nobody", Caller("oid-eve", "tenant-a"), ""},
  };
  for (const Case& c : cases) {
    auto matched = MatchAccessPolicy(c.caller, kPolicies, "github/alice");
    if (c.policy.empty()) {
      ASSERT_FALSE(matched.ok()) << c.name;
      EXPECT_EQ(matched.error().code, ErrorCode::kPermissionDenied) << c.name;
      EXPECT_EQ(matched.error().reason, "AccessDenied") << c.name;
    } else {
      ASSERT_TRUE(matched.ok()) << c.name << ": " << matched.error().message;
      EXPECT_EQ(*matched, c.policy) << c.name;
    }
  }
}

TEST(AccessPolicy, DenialMessage) {
  auto denied = MatchAccessPolicy(Caller("oid-eve", "tenant-a"), kPolicies, "github/alice");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().message,
            "caller oid-eve in tenant tenant-a is not allowed by any access policy of "
            "connection github/alice");
}

TEST(AccessPolicy, DenialMentionsOverage) {
  auto denied =
      MatchAccessPolicy(Caller("oid-eve", "tenant-a", "", {}, false), kPolicies, "github/alice");
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().message.find("groups overage"), std::string::npos);
}

TEST(AccessPolicy, DenialMentionsApp) {
  auto denied = MatchAccessPolicy(Caller("oid-bob", "tenant-b", "app-3"), kPolicies, "p/a");
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.error().message.find("using app app-3"), std::string::npos);
}

TEST(AccessPolicy, EmptyPoliciesDeny) {
  EXPECT_FALSE(MatchAccessPolicy(Caller("oid-alice", "tenant-a"), {}, "p/a").ok());
}

}  // namespace
}  // namespace credgate::credentials
