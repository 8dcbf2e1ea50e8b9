#include "management/admin_roles.h"

#include <gtest/gtest.h>

namespace credgate::management {
namespace {

struct RoleCase {
  AdminRole role;
  const char* method;
  const char* path;
  bool allowed;
};

constexpr RoleCase kCases[] = {
    {AdminRole::kReader, "GET", "/apis", true},
    {AdminRole::kReader, "PUT", "/apis/echo", false},
    {AdminRole::kReader, "DELETE", "/authorizationProviders/p", false},
    {AdminRole::kReader, "POST", "/authorizationProviders/p/authorizations/a/getLoginLinks", false},
    {AdminRole::kReader, "GET", "/adminKeys", false},
    {AdminRole::kOperator, "GET", "/apis", true},
    {AdminRole::kOperator, "PUT", "/apis/echo", true},
    {AdminRole::kOperator, "DELETE", "/authorizationProviders/p", true},
    {AdminRole::kOperator, "GET", "/adminKeys", false},
    {AdminRole::kOperator, "PUT", "/adminKeys/ci", false},
    {AdminRole::kOperator, "POST", "/masterKeys/rewrap", false},
    {AdminRole::kOperator, "POST", "/export", false},
    {AdminRole::kOperator, "POST", "/import", false},
    {AdminRole::kAdmin, "GET", "/adminKeys", true},
    {AdminRole::kAdmin, "PUT", "/adminKeys/ci", true},
    {AdminRole::kAdmin, "POST", "/masterKeys/rewrap", true},
    {AdminRole::kAdmin, "POST", "/export", true},
    {AdminRole::kAdmin, "POST", "/import", true},
    {AdminRole::kAdmin, "DELETE", "/apis/echo", true},
};

TEST(AdminRoles, Table) {
  for (const RoleCase& c : kCases) {
    Status status = CheckRoleAllows(c.role, ClassifyOperation(c.method, c.path), "key-1");
    EXPECT_EQ(status.ok(), c.allowed) << AdminRoleName(c.role) << " " << c.method << " " << c.path;
  }
}

TEST(AdminRoles, DeniedMessageNamesRoles) {
  Status status = CheckRoleAllows(AdminRole::kReader, ManagementOperation::kChange, "ci");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(status.error().reason, "Forbidden");
  EXPECT_NE(status.error().message.find("'ci' has role 'reader'"), std::string::npos);
  EXPECT_NE(status.error().message.find("needs role 'operator'"), std::string::npos);
}

TEST(AdminRoles, ParseRoundTrips) {
  for (AdminRole role : {AdminRole::kReader, AdminRole::kOperator, AdminRole::kAdmin}) {
    auto parsed = ParseAdminRole(AdminRoleName(role));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, role);
  }
}

TEST(AdminRoles, ParseRejectsUnknown) {
  auto parsed = ParseAdminRole("root");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("reader, operator or admin"), std::string::npos);
}

}  // namespace
}  // namespace credgate::management
