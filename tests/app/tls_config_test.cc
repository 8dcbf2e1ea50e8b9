// The TLS keys of `credgate serve`: gatewayTls, managementTls and backendCaFile in the config
// file, and FinalizeConfig()'s checks of the files they name.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "app/config.h"
#include "test_support.h"

namespace credgate::app {
namespace {

using http::testing::MakeSelfSignedCertificate;
using http::testing::TestCertificate;
using http::testing::WriteTempFile;

class TlsConfigTest : public testing::Test {
 protected:
  TlsConfigTest() {
    TestCertificate first = MakeSelfSignedCertificate("DNS:localhost");
    TestCertificate second = MakeSelfSignedCertificate("DNS:localhost");
    certificate_ = WriteTempFile("tls_config_cert.pem", first.certificate_pem);
    key_ = WriteTempFile("tls_config_key.pem", first.key_pem);
    other_key_ = WriteTempFile("tls_config_other_key.pem", second.key_pem);
    not_pem_ = WriteTempFile("tls_config_not_pem.txt", "not a certificate\n");
  }

  std::string WriteYaml(const std::string& yaml) { return WriteTempFile("tls_config.yaml", yaml); }

  // Returns FinalizeConfig()'s error message, or "" when it succeeds.
  static std::string FinalizeError(ServeConfig& config) {
    Status status = FinalizeConfig(config);
    return status.ok() ? "" : status.error().message;
  }

  std::string certificate_;
  std::string key_;
  std::string other_key_;
  std::string not_pem_;
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(TlsConfigTest, LoadsListenerTlsAndCaFile) {
  ServeConfig config;
  Status status =
      LoadConfigFile(WriteYaml("gatewayTls: {certificate: " + certificate_ + ", key: " + key_ +
                               "}\n"
                               "managementTls: {certificate: " +
                               certificate_ + ", key: " + key_ +
                               "}\n"
                               "backendCaFile: " +
                               certificate_ + "\n"),
                     config);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(config.gateway_tls.certificate_file, certificate_);
  EXPECT_EQ(config.gateway_tls.key_file, key_);
  EXPECT_EQ(config.management_tls.certificate_file, certificate_);
  EXPECT_EQ(config.backend_ca_file, certificate_);
  EXPECT_EQ(FinalizeError(config), "");
}

TEST_F(TlsConfigTest, ListenerTlsNeedsBothKeys) {
  ServeConfig config;
  Status status = LoadConfigFile(WriteYaml("gatewayTls:\n  certificate: a.pem\n"), config);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(Contains(status.error().message, "'gatewayTls' needs 'certificate' and 'key'"))
      << status.error().message;
  EXPECT_TRUE(Contains(status.error().message, "line 2")) << status.error().message;
}

TEST_F(TlsConfigTest, ListenerTlsRejectsUnknownKey) {
  ServeConfig config;
  Status status = LoadConfigFile(
      WriteYaml("managementTls: {certificate: a.pem, key: b.pem, chain: c.pem}\n"), config);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(Contains(status.error().message, "unknown key 'managementTls.chain'"))
      << status.error().message;
}

TEST_F(TlsConfigTest, CertificateWithoutKeyIsRejected) {
  ServeConfig config;
  config.gateway_tls.certificate_file = certificate_;
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(error, "gateway TLS needs both")) << error;
  EXPECT_TRUE(Contains(error, "--gateway-tls-key")) << error;
}

TEST_F(TlsConfigTest, KeyWithoutCertificateIsRejected) {
  ServeConfig config;
  config.management_tls.key_file = key_;
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(error, "management TLS needs both")) << error;
  EXPECT_TRUE(Contains(error, "--management-tls-cert")) << error;
}

TEST_F(TlsConfigTest, MissingCertificateFileIsNamed) {
  ServeConfig config;
  config.gateway_tls = {"/nonexistent/credgate-cert.pem", key_};
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(error, "'/nonexistent/credgate-cert.pem' cannot be read")) << error;
  EXPECT_TRUE(Contains(error, "No such file or directory")) << error;
}

TEST_F(TlsConfigTest, MissingKeyFileIsNamed) {
  ServeConfig config;
  config.gateway_tls = {certificate_, "/nonexistent/credgate-key.pem"};
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(error, "TLS key file '/nonexistent/credgate-key.pem' cannot be read"))
      << error;
}

TEST_F(TlsConfigTest, UnreadableKeyFileIsNamed) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  const std::string unreadable = WriteTempFile("tls_config_unreadable_key.pem", "x");
  ASSERT_EQ(::chmod(unreadable.c_str(), 0), 0);
  ServeConfig config;
  config.gateway_tls = {certificate_, unreadable};
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(error, "'" + unreadable + "' cannot be read: Permission denied")) << error;
}

TEST_F(TlsConfigTest, CertificateThatIsNotPemIsNamed) {
  ServeConfig config;
  config.gateway_tls = {not_pem_, key_};
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(error, "'" + not_pem_ + "' is not a PEM certificate chain")) << error;
}

TEST_F(TlsConfigTest, KeyThatIsNotPemIsNamed) {
  ServeConfig config;
  config.management_tls = {certificate_, not_pem_};
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(error, "management listener: TLS key file '" + not_pem_ + "'")) << error;
  EXPECT_TRUE(Contains(error, "is not an unencrypted PEM private key")) << error;
}

TEST_F(TlsConfigTest, KeyOfAnotherCertificateIsRejected) {
  ServeConfig config;
  config.gateway_tls = {certificate_, other_key_};
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(
      error, "'" + other_key_ + "' does not belong to the certificate in '" + certificate_ + "'"))
      << error;
}

TEST_F(TlsConfigTest, PublicUrlDefaultsToHttpsWithGatewayTls) {
  ServeConfig config;
  config.gateway_listen = {"127.0.0.1", 8443};
  config.gateway_tls = {certificate_, key_};
  ASSERT_EQ(FinalizeError(config), "");
  EXPECT_EQ(config.public_url, "https://127.0.0.1:8443");
}

TEST_F(TlsConfigTest, PublicUrlStaysHttpWithOnlyManagementTls) {
  ServeConfig config;
  config.gateway_listen = {"127.0.0.1", 8080};
  config.management_tls = {certificate_, key_};
  ASSERT_EQ(FinalizeError(config), "");
  EXPECT_EQ(config.public_url, "http://127.0.0.1:8080");
}

TEST_F(TlsConfigTest, MissingBackendCaFileIsNamed) {
  ServeConfig config;
  config.backend_ca_file = "/nonexistent/credgate-ca.pem";
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(error, "backend CA file '/nonexistent/credgate-ca.pem' cannot be read"))
      << error;
}

TEST_F(TlsConfigTest, BackendCaFileNotPemIsRejected) {
  ServeConfig config;
  config.backend_ca_file = not_pem_;
  const std::string error = FinalizeError(config);
  EXPECT_TRUE(Contains(error, "backend CA file")) << error;
  EXPECT_TRUE(Contains(error, not_pem_)) << error;
}

}  // namespace
}  // namespace credgate::app
