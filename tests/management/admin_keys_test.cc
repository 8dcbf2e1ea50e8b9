#include "management/admin_keys.h"

#include <gtest/gtest.h>

#include "crypto/admin_key.h"

namespace credgate::management {
namespace {

TEST(AdminKeys, BootstrapKeyIsAdmin) {
  AdminKeys keys;
  keys.Add(Secret("cgk_bootstrap-key-0123456789"));
  auto principal = keys.FindBootstrap(crypto::HashAdminKey(Secret("cgk_bootstrap-key-0123456789")));
  ASSERT_TRUE(principal.has_value());
  EXPECT_EQ(principal->id, kBootstrapAdminKeyId);
  EXPECT_EQ(principal->role, AdminRole::kAdmin);
}

TEST(AdminKeys, UnknownKeyIsNotBootstrap) {
  AdminKeys keys;
  keys.Add(Secret("cgk_bootstrap-key-0123456789"));
  EXPECT_FALSE(keys.FindBootstrap(crypto::HashAdminKey(Secret("cgk_other"))).has_value());
}

TEST(AdminKeys, BearerCredentialNeedsScheme) {
  EXPECT_TRUE(BearerCredential("Bearer cgk_bootstrap-key-0123456789").has_value());
  EXPECT_FALSE(BearerCredential("cgk_bootstrap-key-0123456789").has_value());
  EXPECT_FALSE(BearerCredential("").has_value());
}

}  // namespace
}  // namespace credgate::management
