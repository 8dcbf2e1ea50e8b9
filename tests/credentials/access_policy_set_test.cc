#include "credentials/access_policy_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace credgate::credentials {
namespace {

CallerClaims Caller(std::string oid, std::string tid, std::string app = "",
                    std::vector<std::string> groups = {}, bool groups_known = true) {
  return CallerClaims{std::move(oid), std::move(tid), std::move(groups), groups_known,
                      std::move(app)};
}

// Policies that no test caller matches, so that a set holding them is indexed.
void AddFiller(AccessPolicySet& set, int count) {
  for (int i = 0; i < count; ++i) {
    const std::string n = std::to_string(i);
    set.Upsert({"filler-" + n, "tenant-f", "oid-filler-" + n, {}});
  }
}

// A set with the policies of the matcher's own table, after enough others to index it.
AccessPolicySet IndexedSet() {
  AccessPolicySet set;
  AddFiller(set, AccessPolicySet::kFlatLimit);
  set.Upsert({"user", "tenant-a", "oid-alice", {}});
  set.Upsert({"group", "tenant-a", "group-ops", {}});
  set.Upsert({"app", "tenant-b", "oid-bob", {"app-1", "app-2"}});
  return set;
}

std::vector<std::string> Ids(const AccessPolicySet& set) {
  std::vector<std::string> ids;
  for (const AccessPolicy& policy : set.InOrder()) ids.push_back(policy.id);
  return ids;
}

TEST(AccessPolicySet, IndexedMatrix) {
  struct Case {
    const char* name;
    CallerClaims caller;
    std::string policy;  // "" means denied.
  };
  const Case cases[] = {
      {"object id", Caller("oid-alice", "tenant-a"), "user"},
      {"case-insensitive", Caller("OID-ALICE", "Tenant-A"), "user"},
      {"group", Caller("oid-carol", "tenant-a", "", {"group-x", "group-ops"}), "group"},
      {"group case", Caller("oid-carol", "TENANT-A", "", {"Group-Ops"}), "group"},
      {"group unknown", Caller("oid-carol", "tenant-a", "", {"group-ops"}, false), ""},
      {"tenant mismatch", Caller("oid-alice", "tenant-b"), ""},
      {"empty tenant", Caller("oid-alice", ""), ""},
      {"app listed", Caller("oid-bob", "tenant-b", "app-2"), "app"},
      {"app case", Caller("oid-bob", "tenant-b", "APP-1"), "app"},
      {"app not listed", Caller("oid-bob", "tenant-b", "app-3"), ""},
      {"app missing", Caller("oid-bob", "tenant-b"), ""},
      {"nobody", Caller("oid-eve", "tenant-a"), ""},
  };
  const AccessPolicySet set = IndexedSet();
  ASSERT_GT(set.size(), AccessPolicySet::kFlatLimit);
  for (const Case& c : cases) {
    auto matched = set.Match(c.caller, "github/alice");
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

TEST(AccessPolicySet, IndexedDenialMessages) {
  const AccessPolicySet set = IndexedSet();
  auto plain = set.Match(Caller("oid-eve", "tenant-a"), "github/alice");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().message,
            "caller oid-eve in tenant tenant-a is not allowed by any access policy of "
            "connection github/alice");
  auto app = set.Match(Caller("oid-bob", "tenant-b", "app-3"), "p/a");
  ASSERT_FALSE(app.ok());
  EXPECT_NE(app.error().message.find("using app app-3"), std::string::npos);
  auto overage = set.Match(Caller("oid-eve", "tenant-a", "", {}, false), "p/a");
  ASSERT_FALSE(overage.ok());
  EXPECT_NE(overage.error().message.find("groups overage"), std::string::npos);
}

TEST(AccessPolicySet, FirstAddedWins) {
  AccessPolicySet set;
  AddFiller(set, AccessPolicySet::kFlatLimit);
  set.Upsert({"by-group", "tenant-a", "group-ops", {}});
  set.Upsert({"by-user", "tenant-a", "oid-alice", {}});
  // The caller matches both: by object id and by group. The one added first wins.
  auto matched = set.Match(Caller("oid-alice", "tenant-a", "", {"group-ops"}), "p/a");
  ASSERT_TRUE(matched.ok());
  EXPECT_EQ(*matched, "by-group");
}

TEST(AccessPolicySet, ReplacedPolicyKeepsItsPlace) {
  AccessPolicySet set;
  AddFiller(set, AccessPolicySet::kFlatLimit);
  set.Upsert({"first", "tenant-a", "oid-someone", {}});
  set.Upsert({"second", "tenant-a", "oid-alice", {}});
  set.Upsert({"first", "tenant-a", "oid-alice", {}});
  auto matched = set.Match(Caller("oid-alice", "tenant-a"), "p/a");
  ASSERT_TRUE(matched.ok());
  EXPECT_EQ(*matched, "first");
  EXPECT_EQ(Ids(set).at(AccessPolicySet::kFlatLimit), "first");
  EXPECT_EQ(set.size(), AccessPolicySet::kFlatLimit + 2);
}

TEST(AccessPolicySet, LaterPolicyMatchesWhenEarlierAppDiffers) {
  AccessPolicySet set;
  AddFiller(set, AccessPolicySet::kFlatLimit);
  set.Upsert({"app-only", "tenant-a", "oid-alice", {"app-1"}});
  set.Upsert({"any-app", "tenant-a", "oid-alice", {}});
  auto matched = set.Match(Caller("oid-alice", "tenant-a", "app-9"), "p/a");
  ASSERT_TRUE(matched.ok());
  EXPECT_EQ(*matched, "any-app");
}

TEST(AccessPolicySet, ReplacedPrincipalStopsMatching) {
  AccessPolicySet set = IndexedSet();
  set.Upsert({"user", "tenant-a", "oid-dave", {}});
  EXPECT_FALSE(set.Match(Caller("oid-alice", "tenant-a"), "p/a").ok());
  EXPECT_TRUE(set.Match(Caller("oid-dave", "tenant-a"), "p/a").ok());
}

TEST(AccessPolicySet, ErasedPolicyStopsMatching) {
  AccessPolicySet set = IndexedSet();
  EXPECT_TRUE(set.Erase("user"));
  EXPECT_FALSE(set.Erase("user"));
  EXPECT_FALSE(set.Contains("user"));
  EXPECT_FALSE(set.Match(Caller("oid-alice", "tenant-a"), "p/a").ok());
}

TEST(AccessPolicySet, EmptyIdsNeverMatch) {
  AccessPolicySet set;
  AddFiller(set, AccessPolicySet::kFlatLimit);
  set.Upsert({"no-tenant", "", "oid-alice", {}});
  set.Upsert({"no-object", "tenant-a", "", {}});
  EXPECT_FALSE(set.Match(Caller("oid-alice", ""), "p/a").ok());
  EXPECT_FALSE(set.Match(Caller("", "tenant-a"), "p/a").ok());
  EXPECT_TRUE(set.Contains("no-tenant"));
}

TEST(AccessPolicySet, CopyKeepsItsPolicies) {
  const AccessPolicySet before = IndexedSet();
  AccessPolicySet after = before;
  after.Erase("user");
  after.Upsert({"new", "tenant-a", "oid-new", {}});
  EXPECT_TRUE(before.Match(Caller("oid-alice", "tenant-a"), "p/a").ok());
  EXPECT_FALSE(before.Match(Caller("oid-new", "tenant-a"), "p/a").ok());
  EXPECT_FALSE(before.Contains("new"));
  EXPECT_EQ(before.size(), AccessPolicySet::kFlatLimit + 3);
}

TEST(AccessPolicySet, InOrderListsOrderOfAddition) {
  AccessPolicySet set;
  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) {
    // Ids whose hashes do not follow the order of addition.
    expected.push_back("policy-" + std::to_string((i * 37) % 101));
    set.Upsert({expected.back(), "tenant", "oid-" + expected.back(), {}});
  }
  EXPECT_EQ(Ids(set), expected);
  ASSERT_TRUE(set.Find("policy-37").has_value());
  EXPECT_EQ(set.Find("policy-37")->object_id, "oid-policy-37");
  EXPECT_FALSE(set.Contains("Policy-37"));  // Policy ids compare exactly.
}

// The indexed match returns what the linear matcher returns on the same policies in the same
// order, for random changes and callers over a small alphabet of ids.
TEST(AccessPolicySet, AgreesWithLinearMatcher) {
  std::mt19937 random(7);
  auto pick = [&](std::vector<std::string> values) { return values[random() % values.size()]; };
  const std::vector<std::string> tenants = {"t1", "T1", "t2", ""};
  const std::vector<std::string> principals = {"u1", "U1", "u2", "g1", "G2", "g2", ""};
  const std::vector<std::string> apps = {"a1", "A1", "a2", ""};

  for (int round = 0; round < 200; ++round) {
    AccessPolicySet set;
    std::vector<AccessPolicy> linear;
    const int count = 1 + static_cast<int>(random() % 40);
    for (int i = 0; i < count; ++i) {
      if (random() % 5 == 0) {
        const std::string id = "p" + std::to_string(random() % 30);
        std::erase_if(linear, [&](const AccessPolicy& p) { return p.id == id; });
        set.Erase(id);
        continue;
      }
      AccessPolicy policy{"p" + std::to_string(random() % 30), pick(tenants), pick(principals), {}};
      for (unsigned a = random() % 3; a > 0; --a) policy.app_ids.push_back(pick(apps));
      auto same = std::find_if(linear.begin(), linear.end(),
                               [&](const AccessPolicy& p) { return p.id == policy.id; });
      if (same != linear.end()) {
        *same = policy;
      } else {
        linear.push_back(policy);
      }
      set.Upsert(policy);
    }
    ASSERT_EQ(set.size(), linear.size());
    for (int probe = 0; probe < 30; ++probe) {
      CallerClaims caller =
          Caller(pick(principals), pick(tenants), pick(apps), {}, random() % 4 != 0);
      for (unsigned g = random() % 3; g > 0; --g) caller.groups.push_back(pick(principals));
      auto expected = MatchAccessPolicy(caller, linear, "p/a");
      auto actual = set.Match(caller, "p/a");
      ASSERT_EQ(actual.ok(), expected.ok()) << "round " << round << " probe " << probe;
      if (expected.ok()) {
        EXPECT_EQ(*actual, *expected) << "round " << round << " probe " << probe;
      } else {
        EXPECT_EQ(actual.error().message, expected.error().message) << "round " << round;
      }
    }
  }
}

}  // namespace
}  // namespace credgate::credentials
