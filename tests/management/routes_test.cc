#include "management/routes.h"

#include <gtest/gtest.h>

namespace credgate::management {
namespace {

struct RouteCase {
  const char* path;
  ResourceKind kind;
  const char* first;
  const char* second;
  const char* third;
  const char* store_key;
};

class ResourcePathTest : public testing::TestWithParam<RouteCase> {};

TEST_P(ResourcePathTest, ParsesKindIdsAndStoreKey) {
  const RouteCase& c = GetParam();
  auto parsed = ParseResourcePath(c.path);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->kind, c.kind);
  EXPECT_EQ(parsed->first, c.first);
  EXPECT_EQ(parsed->second, c.second);
  EXPECT_EQ(parsed->third, c.third);
  EXPECT_EQ(StoreKey(*parsed), c.store_key);
}

INSTANTIATE_TEST_SUITE_P(
    Paths, ResourcePathTest,
    testing::Values(
        RouteCase{"/authorizationProviders", ResourceKind::kProviders, "", "", "",
                  "authorizationProviders"},
        RouteCase{"/authorizationProviders/github", ResourceKind::kProvider, "github", "", "",
                  "authorizationProviders/github"},
        RouteCase{"/authorizationProviders/github/authorizations/alice", ResourceKind::kConnection,
                  "github", "alice", "", "authorizationProviders/github/authorizations/alice"},
        RouteCase{"/authorizationProviders/github/authorizations/alice/getLoginLinks",
                  ResourceKind::kLoginLinks, "github", "alice", "",
                  "authorizationProviders/github/authorizations/alice"},
        RouteCase{"/authorizationProviders/github/authorizations/alice/confirmConsentCode",
                  ResourceKind::kConfirmConsentCode, "github", "alice", "",
                  "authorizationProviders/github/authorizations/alice"},
        RouteCase{"/authorizationProviders/g/authorizations/a/accessPolicies/p1",
                  ResourceKind::kAccessPolicy, "g", "a", "p1",
                  "authorizationProviders/g/authorizations/a/accessPolicies/p1"},
        RouteCase{"/trustedIssuers/entra", ResourceKind::kTrustedIssuer, "entra", "", "",
                  "trustedIssuers/entra"},
        RouteCase{"/apis/echo/operations/get/policies/policy", ResourceKind::kOperationPolicy,
                  "echo", "get", "", "apis/echo/operations/get/policies/policy"},
        RouteCase{"/apis/echo/policies/policy", ResourceKind::kApiPolicy, "echo", "", "",
                  "apis/echo/policies/policy"},
        RouteCase{"/policies/policy", ResourceKind::kGlobalPolicy, "", "", "", "policies/policy"},
        RouteCase{"/policyFragments", ResourceKind::kPolicyFragments, "", "", "",
                  "policyFragments"},
        RouteCase{"/policyFragments/cors-common", ResourceKind::kPolicyFragment, "cors-common", "",
                  "", "policyFragments/cors-common"},
        RouteCase{"/backends", ResourceKind::kBackends, "", "", "", "backends"},
        RouteCase{"/backends/orders", ResourceKind::kBackend, "orders", "", "", "backends/orders"},
        RouteCase{"/certificates", ResourceKind::kCertificates, "", "", "", "certificates"},
        RouteCase{"/certificates/jwt-signing", ResourceKind::kCertificate, "jwt-signing", "", "",
                  "certificates/jwt-signing"},
        RouteCase{"/identityProviders", ResourceKind::kIdentityProviders, "", "", "",
                  "identityProviders"},
        RouteCase{"/identityProviders/google", ResourceKind::kIdentityProvider, "google", "", "",
                  "identityProviders/google"},
        RouteCase{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/"
                  "apim1/authorizationProviders/github",
                  ResourceKind::kProvider, "github", "", "", "authorizationProviders/github"}));

TEST(ResourcePath, UnknownPathIsNotFound) {
  for (const char* path : {"/", "/nothing", "/apis/a/b", "/authorizationProviders/p/x/y",
                           "/policies/other", "/apis/a/operations/o/policies"}) {
    auto parsed = ParseResourcePath(path);
    ASSERT_FALSE(parsed.ok()) << path;
    EXPECT_EQ(parsed.error().code, ErrorCode::kNotFound) << path;
  }
}

}  // namespace
}  // namespace credgate::management
