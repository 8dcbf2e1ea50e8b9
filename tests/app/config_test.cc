#include "app/config.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace credgate::app {
namespace {

class ConfigFileTest : public testing::Test {
 protected:
  std::string Write(const std::string& yaml) {
    // CTest runs each test in its own process, two at a time: the process id keeps their files
    // apart.
    std::string path =
        testing::TempDir() + "/credgate-config-test-" + std::to_string(::getpid()) + ".yaml";
    std::ofstream(path) << yaml;
    return path;
  }
};

TEST(ListenAddress, ParsesIpv4AndIpv6) {
  auto v4 = ParseListenAddress("127.0.0.1:8080", "--x");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = ParseListenAddress("[::1]:9", "--x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
}

TEST(ListenAddress, RejectsMalformedValues) {
  for (const char* text : {"8080", "::1:80", ":80", "host:99999", "host:x"}) {
    auto parsed = ParseListenAddress(text, "--gateway-listen");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.error().message.find("--gateway-listen"), std::string::npos);
  }
}

TEST_F(ConfigFileTest, LoadsKeysAndResources) {
  ServeConfig config;
  auto status = LoadConfigFile(Write(R"(
gatewayListen: 0.0.0.0:9000
publicUrl: https://gw.example.com/
postLoginRedirectAllowList: [https://app.example.com/done]
managedIdentity: {tenantId: t1, objectId: o1}
resources:
  - path: /apis/echo
    body:
      properties: {path: echo, serviceUrl: "http://127.0.0.1:1", port: 5}
)"),
                               config);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(config.gateway_listen.port, 9000);
  ASSERT_EQ(config.resources.size(), 1u);
  EXPECT_EQ(config.resources[0].path, "/apis/echo");
  EXPECT_NE(config.resources[0].body_json.find("\"port\":5"), std::string::npos);
  EXPECT_NE(config.resources[0].body_json.find("\"serviceUrl\":\"http://127.0.0.1:1\""),
            std::string::npos);
  ASSERT_TRUE(config.managed_identity.has_value());
  ASSERT_TRUE(FinalizeConfig(config).ok());
  EXPECT_EQ(config.public_url, "https://gw.example.com");
}

TEST_F(ConfigFileTest, ManagedIdentityTokenProvider) {
  ServeConfig config;
  auto status = LoadConfigFile(Write(R"(
managedIdentity:
  tenantId: t1
  objectId: o1
  tokenProvider: gateway-identity
  resourceParameter: resource
)"),
                               config);
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_TRUE(config.managed_identity.has_value());
  EXPECT_EQ(config.managed_identity->token_provider, "gateway-identity");
  EXPECT_TRUE(config.managed_identity->resource_parameter);
}

TEST_F(ConfigFileTest, ManagedIdentityUserAssigned) {
  ServeConfig config;
  auto status = LoadConfigFile(Write(R"(
managedIdentity:
  tenantId: t1
  objectId: o1
  userAssigned:
    11111111-2222-3333-4444-555555555555: orders-identity
daprSidecarUrl: http://127.0.0.1:3600/
)"),
                               config);
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_TRUE(config.managed_identity.has_value());
  ASSERT_EQ(config.managed_identity->user_assigned.size(), 1u);
  EXPECT_EQ(config.managed_identity->user_assigned.at("11111111-2222-3333-4444-555555555555"),
            "orders-identity");
  EXPECT_EQ(config.dapr_sidecar_url, "http://127.0.0.1:3600");
}

TEST_F(ConfigFileTest, ManagedIdentityInvalidValues) {
  for (const char* yaml : {
           "managedIdentity: {tenantId: t, objectId: o, tokenProvider: 'a/b'}\n",
           "managedIdentity: {tenantId: t, objectId: o, resourceParameter: audience}\n",
           "managedIdentity: {tenantId: t, objectId: o, userAssigned: {c1: 'a/b'}}\n",
           "managedIdentity: {tenantId: t, objectId: o, userAssigned: [c1]}\n",
       }) {
    ServeConfig config;
    auto status = LoadConfigFile(Write(yaml), config);
    ASSERT_FALSE(status.ok()) << yaml;
    EXPECT_NE(status.error().message.find("managedIdentity."), std::string::npos)
        << status.error().message;
  }
}

TEST_F(ConfigFileTest, UnknownKeyIsNamedWithItsLine) {
  ServeConfig config;
  auto status = LoadConfigFile(Write("dataDir: /tmp/x\ngatewayListn: 1.2.3.4:5\n"), config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("unknown key 'gatewayListn'"), std::string::npos);
  EXPECT_NE(status.error().message.find("line 2"), std::string::npos);
}

TEST_F(ConfigFileTest, UnknownNestedKeyIsNamedWithItsLine) {
  struct Case {
    const char* yaml;
    const char* expected_key;
    const char* expected_line;
  };
  for (const Case& c : {
           Case{"managedIdentity:\n  tenantId: t\n  objectId: o\n  objectID: x\n",
                "unknown key 'managedIdentity.objectID'", "line 4"},
           Case{"resources:\n  - path: /apis/a\n    bodyy: {}\n    body: {properties: {}}\n",
                "unknown key 'resources.bodyy'", "line 3"},
       }) {
    ServeConfig config;
    auto status = LoadConfigFile(Write(c.yaml), config);
    ASSERT_FALSE(status.ok()) << c.yaml;
    EXPECT_NE(status.error().message.find(c.expected_key), std::string::npos)
        << status.error().message;
    EXPECT_NE(status.error().message.find(c.expected_line), std::string::npos)
        << status.error().message;
  }
}

TEST_F(ConfigFileTest, InvalidValueIsNamedWithItsLine) {
  struct Case {
    const char* yaml;
    const char* expected_key;
  };
  for (const Case& c : {
           Case{"dataDir: /tmp/x\npublicUrl: ftp://gw.example.com\n", "'publicUrl' (line 2"},
           Case{"postLoginRedirectAllowList:\n  - https://app.example.com/done\n  - not a url\n",
                "'postLoginRedirectAllowList' (line 3"},
           Case{"dataDir: /tmp/x\nlogFormat: xml\n", "'logFormat' (line 2"},
           Case{"logLevel: loud\n", "'logLevel' (line 1"},
       }) {
    ServeConfig config;
    auto status = LoadConfigFile(Write(c.yaml), config);
    ASSERT_FALSE(status.ok()) << c.yaml;
    EXPECT_NE(status.error().message.find(c.expected_key), std::string::npos)
        << status.error().message;
    EXPECT_NE(status.error().message.find("config file '"), std::string::npos)
        << status.error().message;
  }
}

TEST_F(ConfigFileTest, AcceptsValidLogSettings) {
  ServeConfig config;
  auto status = LoadConfigFile(Write("logFormat: json\nlogLevel: warn\n"), config);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(config.log_format, "json");
  EXPECT_EQ(config.log_level, "warn");
}

TEST_F(ConfigFileTest, YamlSyntaxErrorHasPosition) {
  ServeConfig config;
  auto status = LoadConfigFile(Write("a: [1, 2\n"), config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("invalid YAML at line"), std::string::npos);
}

TEST_F(ConfigFileTest, LoadsDefaultTokenLifetime) {
  ServeConfig config;
  EXPECT_EQ(config.default_token_lifetime_seconds, 3600);
  auto status = LoadConfigFile(Write("defaultTokenLifetimeSeconds: 0\n"), config);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(config.default_token_lifetime_seconds, 0);
  status = LoadConfigFile(Write("defaultTokenLifetimeSeconds: 86400\n"), config);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(config.default_token_lifetime_seconds, 86400);
}

TEST_F(ConfigFileTest, LoadsMaxRefreshRate) {
  ServeConfig config;
  EXPECT_EQ(config.max_refresh_rate, 100);
  auto status = LoadConfigFile(Write("maxRefreshRate: 5\n"), config);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(config.max_refresh_rate, 5);
}

TEST_F(ConfigFileTest, RejectsZeroMaxRefreshRate) {
  ServeConfig config;
  auto status = LoadConfigFile(Write("maxRefreshRate: 0\n"), config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("'maxRefreshRate'"), std::string::npos)
      << status.error().message;
  EXPECT_NE(status.error().message.find("line 1"), std::string::npos) << status.error().message;
}

TEST_F(ConfigFileTest, RejectsNegativeDefaultTokenLifetime) {
  ServeConfig config;
  auto status = LoadConfigFile(Write("defaultTokenLifetimeSeconds: -5\n"), config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("'defaultTokenLifetimeSeconds' must be a whole number"),
            std::string::npos)
      << status.error().message;
  EXPECT_NE(status.error().message.find("line 1"), std::string::npos) << status.error().message;
}

TEST_F(ConfigFileTest, LoadsWebhooksFromFileAndEnvironment) {
  const std::string secret_file =
      testing::TempDir() + "/credgate-webhook-secret-" + std::to_string(::getpid());
  std::ofstream(secret_file) << "file-secret-0123456789abcdef\n";
  ::setenv("CREDGATE_TEST_WEBHOOK_SECRET", "env-secret-0123456789abcdef", 1);
  std::string yaml = "webhooks:\n";
  yaml += "  - url: https://hooks.example.com/a\n";
  yaml += "    secretFile: " + secret_file + "\n";
  yaml += "  - url: http://127.0.0.1:9000/b\n";
  yaml += "    secretEnv: CREDGATE_TEST_WEBHOOK_SECRET\n";
  yaml += "webhookMaxAttempts: 3\n";
  ServeConfig config;
  auto status = LoadConfigFile(Write(yaml), config);
  std::remove(secret_file.c_str());
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(config.webhooks.size(), 2u);
  EXPECT_EQ(config.webhooks[0].url, "https://hooks.example.com/a");
  EXPECT_TRUE(config.webhooks[0].secret.Equals("file-secret-0123456789abcdef"));
  EXPECT_EQ(config.webhooks[1].url, "http://127.0.0.1:9000/b");
  EXPECT_TRUE(config.webhooks[1].secret.Equals("env-secret-0123456789abcdef"));
  EXPECT_EQ(config.webhook_max_attempts, 3);
}

TEST_F(ConfigFileTest, RejectsInvalidWebhooks) {
  ::setenv("CREDGATE_TEST_SHORT_SECRET", "short", 1);
  ::unsetenv("CREDGATE_TEST_UNSET_SECRET");
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"webhooks: {url: x}\n", "must be a list"},
      {"webhooks:\n  - secretEnv: HOME\n", "needs 'url'"},
      {"webhooks:\n  - url: ftp://h/x\n    secretEnv: HOME\n", "invalid webhook URL"},
      {"webhooks:\n  - url: https://h/x\n", "exactly one of 'secretFile' and 'secretEnv'"},
      {"webhooks:\n  - url: https://h/x\n    secretEnv: A\n    secretFile: /b\n", "exactly one of"},
      {"webhooks:\n  - url: https://h/x\n    secretEnv: CREDGATE_TEST_UNSET_SECRET\n",
       "is not set"},
      {"webhooks:\n  - url: https://h/x\n    secretEnv: CREDGATE_TEST_SHORT_SECRET\n",
       "at least 16 bytes"},
      {"webhooks:\n  - url: https://h/x\n    secretFile: /nonexistent/credgate-secret\n",
       "cannot be read"},
      {"webhooks:\n  - url: https://h/x\n    secretEnv: HOME\n    header: x\n",
       "unknown key 'webhooks[].header'"},
  };
  for (const Case& c : cases) {
    ServeConfig config;
    auto status = LoadConfigFile(Write(c.yaml), config);
    ASSERT_FALSE(status.ok()) << c.yaml;
    EXPECT_NE(status.error().message.find(c.message), std::string::npos)
        << c.yaml << " -> " << status.error().message;
    EXPECT_EQ(status.error().message.find("short"), std::string::npos) << status.error().message;
  }
}

TEST(FinalizeConfig, DefaultsPublicUrlFromGatewayAddress) {
  ServeConfig config;
  config.gateway_listen = {"::1", 8443};
  ASSERT_TRUE(FinalizeConfig(config).ok());
  EXPECT_EQ(config.public_url, "http://[::1]:8443");
}

TEST(FinalizeConfig, RejectsPublicUrlWithQuery) {
  ServeConfig config;
  config.public_url = "https://gw.example.com/?x=1";
  EXPECT_FALSE(FinalizeConfig(config).ok());
}

}  // namespace
}  // namespace credgate::app
