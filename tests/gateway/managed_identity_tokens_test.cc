// ManagedIdentityTokens: the scope a resource maps to, and the failures before a token request.
// The token request itself runs against a real OpenID provider in
// tests/e2e/managed_identity.test.mjs.
#include "gateway/managed_identity_tokens.h"

#include <gtest/gtest.h>

#include "../credentials/run_coroutine.h"

namespace credgate::gateway {
namespace {

using credentials::testing::RunCoroutine;

TEST(ScopeForResourceTest, AppendsDefault) {
  EXPECT_EQ(ScopeForResource("https://vault.azure.net"), "https://vault.azure.net/.default");
  EXPECT_EQ(ScopeForResource("https://management.azure.com/"),
            "https://management.azure.com/.default");
  EXPECT_EQ(ScopeForResource("api://backend/.default"), "api://backend/.default");
}

class ManagedIdentityTokensTest : public testing::Test {
 protected:
  ManagedIdentityTokensTest() {
    services_.clock = &clock_;
    services_.config = &config_;
  }

  Error GetError(const std::string& resource, const std::string& client_id = "") {
    Result<Secret> token = RunCoroutine(tokens_.Get(resource, client_id));
    EXPECT_FALSE(token.ok());
    return token.ok() ? Error{} : token.error();
  }

  FakeClock clock_;
  runtime::ConfigState config_;
  runtime::Services services_;
  ManagedIdentityTokens tokens_{services_};
};

TEST_F(ManagedIdentityTokensTest, NotConfigured) {
  Error error = GetError("api://backend");
  EXPECT_EQ(error.reason, "ManagedIdentityNotConfigured");
  EXPECT_EQ(error.code, ErrorCode::kInternal);
  EXPECT_EQ(tokens_.counters().failed.load(), 1u);
}

TEST_F(ManagedIdentityTokensTest, MissingProviderNamed) {
  services_.settings.managed_identity_token_provider = "gateway-identity";
  Error error = GetError("api://backend");
  EXPECT_EQ(error.reason, "ManagedIdentityNotConfigured");
  EXPECT_NE(error.message.find("'gateway-identity'"), std::string::npos) << error.message;
}

TEST_F(ManagedIdentityTokensTest, UnknownClientIdNamed) {
  services_.settings.managed_identity_token_provider = "gateway-identity";
  Error error = GetError("api://backend", "client-1");
  EXPECT_EQ(error.reason, "ManagedIdentityNotConfigured");
  EXPECT_NE(error.message.find("'client-1' is not in managedIdentity.userAssigned"),
            std::string::npos)
      << error.message;
}

TEST_F(ManagedIdentityTokensTest, UserAssignedProviderNamed) {
  services_.settings.managed_identity_user_assigned["client-1"] = "orders-identity";
  Error error = GetError("api://backend", "client-1");
  EXPECT_EQ(error.reason, "ManagedIdentityNotConfigured");
  EXPECT_NE(error.message.find("'orders-identity' that managedIdentity.userAssigned.client-1"),
            std::string::npos)
      << error.message;
}

TEST_F(ManagedIdentityTokensTest, InvalidResource) {
  services_.settings.managed_identity_token_provider = "gateway-identity";
  for (const std::string& resource : {std::string(), std::string("api://a b"),
                                     std::string(1001, 'a')}) {
    Error error = GetError(resource);
    EXPECT_EQ(error.reason, "ManagedIdentityResourceInvalid") << resource;
  }
}

}  // namespace
}  // namespace credgate::gateway
