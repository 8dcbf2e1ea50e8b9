#include "credentials/packed_access_policies.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "credentials/access_policy.h"

namespace credgate::credentials {
namespace {

// Both lists can be read more than once and with the standard algorithms.
static_assert(std::forward_iterator<PackedStrings::iterator>);
static_assert(std::forward_iterator<PackedAccessPolicies::iterator>);

bool SamePolicy(const AccessPolicy& a, const AccessPolicy& b) {
  return a.id == b.id && a.tenant_id == b.tenant_id && a.object_id == b.object_id &&
         a.app_ids == b.app_ids;
}

TEST(PackedAccessPolicies, EmptyListHasNoPolicies) {
  const PackedAccessPolicies packed;
  EXPECT_TRUE(packed.empty());
  EXPECT_TRUE(packed.begin() == packed.end());
  EXPECT_TRUE(packed.Unpack().empty());
  const PackedAccessPolicies from_empty_span(std::vector<AccessPolicy>{});
  EXPECT_TRUE(from_empty_span.empty());
}

TEST(PackedAccessPolicies, UnpacksWhatWasPacked) {
  const std::vector<AccessPolicy> policies = {
      {"user", "72f988bf-86f1-41af-91ab-2d7cd011db47", "00000000-0000-4000-8000-000000000001", {}},
      {"apps", "tenant", "object", {"app-1", "", "app-3"}},
      {"", "", "", {}},  // Empty strings take one length byte each.
      // Lengths of 128 and more take two varint bytes.
      {std::string(200, 'i'),
       std::string(128, 't'),
       std::string(16'384, 'o'),
       {std::string(300, 'a')}},
  };
  const PackedAccessPolicies packed(policies);
  ASSERT_EQ(packed.size(), policies.size());
  const std::vector<AccessPolicy> unpacked = packed.Unpack();
  ASSERT_EQ(unpacked.size(), policies.size());
  for (size_t i = 0; i < policies.size(); ++i) {
    EXPECT_TRUE(SamePolicy(unpacked[i], policies[i])) << "policy " << i;
  }
}

TEST(PackedAccessPolicies, ViewsReadAppIdsInOrder) {
  const PackedAccessPolicies packed(std::vector<AccessPolicy>{{"p", "t", "o", {"a", "bb", "ccc"}}});
  const AccessPolicyView view = *packed.begin();
  EXPECT_EQ(view.id, "p");
  EXPECT_EQ(view.tenant_id, "t");
  EXPECT_EQ(view.object_id, "o");
  std::vector<std::string_view> apps(view.app_ids.begin(), view.app_ids.end());
  EXPECT_EQ(apps, (std::vector<std::string_view>{"a", "bb", "ccc"}));
  EXPECT_EQ(std::ranges::distance(view.app_ids), 3);
  auto found = std::ranges::find(view.app_ids, std::string_view("bb"));
  ASSERT_NE(found, view.app_ids.end());
  EXPECT_EQ(*found++, "bb");
  EXPECT_EQ(*found, "ccc");
}

TEST(PackedAccessPolicies, IteratorsWalkEveryPolicyOnce) {
  const PackedAccessPolicies packed(
      std::vector<AccessPolicy>{{"p1", "t", "o1", {}}, {"p2", "t", "o2", {"a"}}});
  auto it = packed.begin();
  const auto first = it++;
  EXPECT_EQ(first->id, "p1");
  // A view read through an iterator stays valid after the iterator moves on.
  auto reading = packed.begin();
  const AccessPolicyView& first_view = *reading;
  ++reading;
  EXPECT_EQ(first_view.id, "p1");
  EXPECT_EQ(reading->id, "p2");
  EXPECT_EQ(it->id, "p2");
  EXPECT_EQ(it->app_ids.size(), 1u);
  EXPECT_TRUE(++it == packed.end());
  EXPECT_EQ(std::ranges::count_if(
                packed, [](const AccessPolicyView& view) { return view.tenant_id == "t"; }),
            2);
}

TEST(PackedAccessPolicies, CopyOwnsItsBlock) {
  PackedAccessPolicies original(std::vector<AccessPolicy>{{"p", "t", "o", {"a"}}});
  const PackedAccessPolicies copy = original;
  original = PackedAccessPolicies(std::vector<AccessPolicy>{{"q", "u", "v", {}}});
  ASSERT_EQ(copy.size(), 1u);
  EXPECT_EQ(copy.begin()->id, "p");
  EXPECT_EQ(original.begin()->id, "q");
  PackedAccessPolicies& self = original;
  original = self;
  EXPECT_EQ(original.begin()->id, "q");
}

TEST(PackedAccessPolicies, MatchesAsTheLinearMatcher) {
  const std::vector<AccessPolicy> policies = {
      {"other-app", "tenant-a", "oid-alice", {"app-2"}},
      {"group", "Tenant-A", "GROUP-OPS", {}},
  };
  const PackedAccessPolicies packed(policies);
  const CallerClaims caller{"oid-alice", "tenant-a", {"group-ops"}, true, "app-1"};
  auto matched = MatchFirstAccessPolicy(caller, packed, "p/c");
  ASSERT_TRUE(matched.ok());
  EXPECT_EQ(*matched, "group");

  const CallerClaims stranger{"oid-eve", "tenant-a", {}, true, "app-2"};
  auto denied = MatchFirstAccessPolicy(stranger, packed, "p/c");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().message, MatchAccessPolicy(stranger, policies, "p/c").error().message);
}

}  // namespace
}  // namespace credgate::credentials
