#include "crypto/certificate.h"

#include <gtest/gtest.h>

#include <ctime>

#include "test_certificates.h"

namespace credgate::crypto {
namespace {

using testing::CertificateDerBase64;
using testing::CertificatePem;
using testing::MakeCertificate;
using testing::MakeP256Key;
using testing::MakeRsaKey;
using testing::PfxBase64;
using testing::PrivateKeyPem;

class CertificateTest : public ::testing::Test {
 protected:
  testing::TestKey key_ = MakeRsaKey();
  testing::TestX509 x509_ = MakeCertificate(key_.get(), "api.example.com", 30);
};

TEST_F(CertificateTest, ParsesPfxWithPassword) {
  auto parsed =
      Certificate::Parse(PfxBase64(x509_.get(), key_.get(), "pfx-pass"), Secret("pfx-pass"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)->subject(), "CN=api.example.com");
  EXPECT_NE((*parsed)->private_key(), nullptr);
  EXPECT_EQ((*parsed)->thumbprint().size(), 40u);
}

TEST_F(CertificateTest, RejectsPfxWithWrongPassword) {
  auto parsed = Certificate::Parse(PfxBase64(x509_.get(), key_.get(), "pfx-pass"), Secret("other"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(parsed.error().message.find("password does not match"), std::string::npos)
      << parsed.error().message;
}

TEST_F(CertificateTest, RejectsPfxWithoutPassword) {
  auto parsed = Certificate::Parse(PfxBase64(x509_.get(), key_.get(), "pfx-pass"), Secret());
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("password does not match"), std::string::npos);
}

TEST_F(CertificateTest, ParsesPfxWithEmptyPassword) {
  auto parsed = Certificate::Parse(PfxBase64(x509_.get(), key_.get(), ""), Secret());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_NE((*parsed)->private_key(), nullptr);
}

TEST_F(CertificateTest, ParsesPemWithKey) {
  std::string pem = CertificatePem(x509_.get()) + PrivateKeyPem(key_.get());
  auto parsed = Certificate::Parse(pem, Secret());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_NE((*parsed)->private_key(), nullptr);
}

TEST_F(CertificateTest, ParsesPemKeyBeforeCertificate) {
  std::string pem = PrivateKeyPem(key_.get()) + CertificatePem(x509_.get());
  auto parsed = Certificate::Parse(pem, Secret());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)->subject(), "CN=api.example.com");
}

TEST_F(CertificateTest, ParsesEncryptedPemKey) {
  std::string pem = CertificatePem(x509_.get()) + PrivateKeyPem(key_.get(), "key-pass");
  auto parsed = Certificate::Parse(pem, Secret("key-pass"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_NE((*parsed)->private_key(), nullptr);
}

TEST_F(CertificateTest, RejectsEncryptedPemKeyWithWrongPassword) {
  std::string pem = CertificatePem(x509_.get()) + PrivateKeyPem(key_.get(), "key-pass");
  auto parsed = Certificate::Parse(pem, Secret("wrong"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("private key could not be read"), std::string::npos)
      << parsed.error().message;
}

TEST_F(CertificateTest, RejectsKeyOfAnotherCertificate) {
  testing::TestKey other = MakeRsaKey();
  std::string pem = CertificatePem(x509_.get()) + PrivateKeyPem(other.get());
  auto parsed = Certificate::Parse(pem, Secret());
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("does not belong"), std::string::npos);
}

TEST_F(CertificateTest, ParsesPemCertificateAlone) {
  auto parsed = Certificate::Parse(CertificatePem(x509_.get()), Secret());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)->private_key(), nullptr);
  EXPECT_NE((*parsed)->public_key(), nullptr);
}

TEST_F(CertificateTest, ParsesDerCertificate) {
  auto parsed = Certificate::Parse(CertificateDerBase64(x509_.get()), Secret());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)->subject(), "CN=api.example.com");
}

TEST_F(CertificateTest, PemChainKeepsIntermediates) {
  testing::TestKey leaf_key = MakeP256Key();
  testing::TestX509 leaf = MakeCertificate(leaf_key.get(), "leaf", 30, key_.get());
  std::string pem = CertificatePem(leaf.get()) + CertificatePem(x509_.get());
  auto parsed = Certificate::Parse(pem, Secret());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ((*parsed)->subject(), "CN=leaf");
  EXPECT_EQ((*parsed)->chain().size(), 1u);
}

TEST_F(CertificateTest, ThumbprintIsSha1OfDer) {
  auto from_pem = Certificate::Parse(CertificatePem(x509_.get()), Secret());
  auto from_pfx = Certificate::Parse(PfxBase64(x509_.get(), key_.get(), "p"), Secret("p"));
  ASSERT_TRUE(from_pem.ok());
  ASSERT_TRUE(from_pfx.ok());
  EXPECT_EQ((*from_pem)->thumbprint(), (*from_pfx)->thumbprint());
  EXPECT_EQ((*from_pem)->thumbprint().find_first_not_of("0123456789ABCDEF"), std::string::npos);
}

TEST_F(CertificateTest, ExpirationDateIsNotAfter) {
  auto parsed = Certificate::Parse(CertificatePem(x509_.get()), Secret());
  ASSERT_TRUE(parsed.ok());
  const int64_t expected = static_cast<int64_t>(std::time(nullptr)) + 30 * 24 * 3600;
  EXPECT_NEAR(static_cast<double>((*parsed)->not_after()), static_cast<double>(expected), 60.0);
  EXPECT_EQ((*parsed)->ExpirationDate().size(), 20u);
  EXPECT_EQ((*parsed)->ExpirationDate().back(), 'Z');
}

TEST(CertificateParse, RejectsMalformedData) {
  struct Case {
    std::string data;
    std::string expected;
  };
  const Case cases[] = {
      {"", "empty"},
      {"not base64 !!", "neither PEM text nor base64"},
      {"aGVsbG8gd29ybGQ=", "neither PKCS#12"},
      {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "no CERTIFICATE"},
  };
  for (const Case& c : cases) {
    auto parsed = Certificate::Parse(c.data, Secret());
    ASSERT_FALSE(parsed.ok()) << c.data;
    EXPECT_NE(parsed.error().message.find(c.expected), std::string::npos)
        << c.data << ": " << parsed.error().message;
  }
}

TEST(CertificateParse, NormalizesThumbprint) {
  EXPECT_EQ(NormalizeThumbprint("ab:cd ef01"), "ABCDEF01");
}

}  // namespace
}  // namespace credgate::crypto
