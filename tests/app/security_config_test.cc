// The configuration keys of secrets at rest and of the management API's own security.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "app/config.h"

namespace credgate::app {
namespace {

class SecurityConfigTest : public testing::Test {
 protected:
  Status Load(const std::string& yaml) {
    std::string path = testing::TempDir() + "/credgate-security-config-test-" +
                       std::to_string(::getpid()) + ".yaml";
    std::ofstream(path) << yaml;
    return LoadConfigFile(path, config_);
  }

  ServeConfig config_;
};

TEST_F(SecurityConfigTest, LoadsSecurityKeys) {
  Status status = Load(R"(
masterKeyCommand: [vault, kv, get, -field=keys, secret/credgate]
masterKeyCommandTimeoutSeconds: 5
auditLog: /var/log/credgate/audit.log
adminAuthFailureLimit: 20
adminAuthFailureWindowSeconds: 120
adminJwt:
  issuer: https://login.example.com/tenant/v2.0
  audiences: [api://credgate-admin]
  roleClaim: credgate_roles
)");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(config_.master_key_command,
            (std::vector<std::string>{"vault", "kv", "get", "-field=keys", "secret/credgate"}));
  EXPECT_EQ(config_.master_key_command_timeout_seconds, 5);
  EXPECT_EQ(config_.audit_log, "/var/log/credgate/audit.log");
  EXPECT_EQ(config_.admin_auth_failure_limit, 20);
  EXPECT_EQ(config_.admin_auth_failure_window_seconds, 120);
  ASSERT_TRUE(config_.admin_jwt.has_value());
  EXPECT_EQ(config_.admin_jwt->issuer, "https://login.example.com/tenant/v2.0");
  EXPECT_EQ(config_.admin_jwt->audiences, std::vector<std::string>{"api://credgate-admin"});
  EXPECT_EQ(config_.admin_jwt->role_claim, "credgate_roles");
  EXPECT_EQ(config_.admin_jwt->jwks_uri, "");
}

TEST_F(SecurityConfigTest, LoadsPortalSignInKeys) {
  ::setenv("CREDGATE_TEST_PORTAL_CLIENT_SECRET", "portal-secret\n", 1);
  Status status = Load(R"(
adminJwt:
  issuer: https://login.example.com
  audiences: [credgate-portal]
  portalClientId: credgate-portal
  portalClientSecretEnv: CREDGATE_TEST_PORTAL_CLIENT_SECRET
  portalRedirectUrl: https://admin.example.com/portal/oidc/callback
  portalScopes: openid profile roles
)");
  ::unsetenv("CREDGATE_TEST_PORTAL_CLIENT_SECRET");
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_TRUE(config_.admin_jwt.has_value());
  EXPECT_EQ(config_.admin_jwt->portal_client_id, "credgate-portal");
  EXPECT_TRUE(config_.admin_jwt->portal_client_secret.Equals("portal-secret"));
  EXPECT_EQ(config_.admin_jwt->portal_redirect_url,
            "https://admin.example.com/portal/oidc/callback");
  EXPECT_EQ(config_.admin_jwt->portal_scopes, "openid profile roles");
  EXPECT_TRUE(FinalizeConfig(config_).ok());
}

TEST_F(SecurityConfigTest, PortalScopesDefault) {
  ASSERT_TRUE(Load("adminJwt: {issuer: https://login.example.com, audiences: [a]}\n").ok());
  EXPECT_EQ(config_.admin_jwt->portal_scopes, "openid profile");
  EXPECT_FALSE(config_.admin_jwt->portal_enabled());
}

TEST_F(SecurityConfigTest, PortalSecretFromUnsetVariableFails) {
  Status status = Load(R"(
adminJwt:
  issuer: https://login.example.com
  audiences: [credgate-portal]
  portalClientId: credgate-portal
  portalClientSecretEnv: CREDGATE_TEST_UNSET_VARIABLE
  portalRedirectUrl: https://admin.example.com/portal/oidc/callback
)");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("'CREDGATE_TEST_UNSET_VARIABLE'"), std::string::npos)
      << status.error().message;
}

TEST_F(SecurityConfigTest, PortalWithoutClientIdAudienceFails) {
  ASSERT_TRUE(Load(R"(
adminJwt:
  issuer: https://login.example.com
  audiences: [api://credgate-admin]
  portalClientId: credgate-portal
  portalRedirectUrl: https://admin.example.com/portal/oidc/callback
)").ok());
  Status status = FinalizeConfig(config_);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("adminJwt.audiences must contain"), std::string::npos)
      << status.error().message;
}

TEST_F(SecurityConfigTest, RejectsUnknownPortalKey) {
  Status status = Load(R"(
adminJwt:
  issuer: https://login.example.com
  audiences: [credgate-portal]
  portalClientSecret: inline-secret
)");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("unknown key 'adminJwt.portalClientSecret'"),
            std::string::npos)
      << status.error().message;
}

TEST_F(SecurityConfigTest, CommandAsOneString) {
  ASSERT_TRUE(Load("masterKeyCommand: cat /run/secrets/credgate-keys\n").ok());
  EXPECT_EQ(config_.master_key_command,
            (std::vector<std::string>{"cat", "/run/secrets/credgate-keys"}));
}

TEST_F(SecurityConfigTest, RejectsEmptyCommand) {
  Status status = Load("masterKeyCommand: []\n");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("'masterKeyCommand' must be a command"), std::string::npos);
}

TEST_F(SecurityConfigTest, AdminJwtNeedsAudiences) {
  Status status = Load("adminJwt: {issuer: https://login.example.com}\n");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("'adminJwt' needs 'issuer' and 'audiences'"),
            std::string::npos);
}

TEST_F(SecurityConfigTest, AdminJwtRejectsUnknownKey) {
  Status status = Load("adminJwt: {issuer: i, audiences: [a], role: admin}\n");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("unknown key 'adminJwt.role'"), std::string::npos);
}

TEST_F(SecurityConfigTest, RejectsNegativeFailureLimit) {
  EXPECT_FALSE(Load("adminAuthFailureLimit: -1\n").ok());
}

TEST_F(SecurityConfigTest, AuditLogDefaultsIntoDataDir) {
  config_.data_dir = "/var/lib/credgate";
  ASSERT_TRUE(FinalizeConfig(config_).ok());
  EXPECT_EQ(config_.audit_log, "/var/lib/credgate/audit.log");
}

TEST_F(SecurityConfigTest, RejectsKeyFileAndCommand) {
  config_.master_key_file = "/etc/credgate/keys";
  config_.master_key_command = {"cat", "/run/keys"};
  Status status = FinalizeConfig(config_);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("keep one"), std::string::npos);
}

}  // namespace
}  // namespace credgate::app
