#include "management/admin_keys.h"

#include <gtest/gtest.h>

#include "crypto/admin_key.h"

namespace credgate::management {
namespace {

TEST(AdminKeys, IdentifyReturnsKeyId) {
  AdminKeys keys;
  keys.Add(Secret("cgk_bootstrap-key-0123456789"));
  keys.AddHash(crypto::HashAdminKey(Secret("cgk_ops-key-0123456789")), "ops");
  EXPECT_EQ(keys.Identify("Bearer cgk_bootstrap-key-0123456789"), "bootstrap");
  EXPECT_EQ(keys.Identify("Bearer cgk_ops-key-0123456789"), "ops");
}

TEST(AdminKeys, UnknownKeyHasNoId) {
  AdminKeys keys;
  keys.Add(Secret("cgk_bootstrap-key-0123456789"));
  EXPECT_FALSE(keys.Identify("Bearer cgk_other").has_value());
  EXPECT_FALSE(keys.Identify("cgk_bootstrap-key-0123456789").has_value());
  EXPECT_FALSE(keys.Authorize(""));
  EXPECT_TRUE(keys.Authorize("Bearer cgk_bootstrap-key-0123456789"));
}

}  // namespace
}  // namespace credgate::management
