#include "crypto/export_seal.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "crypto/aead.h"

namespace credgate::crypto {
namespace {

constexpr std::string_view kPath = "/authorizationProviders/github/authorizations/alice";
constexpr std::string_view kField = "tokens";

class ExportSealTest : public ::testing::Test {
 protected:
  std::string SealText(std::string_view plaintext, std::string_view path = kPath,
                       std::string_view field = kField) {
    auto sealed = SealExportValue(key_, path, field, Secret(std::string(plaintext)), random_);
    EXPECT_TRUE(sealed.ok()) << sealed.error().message;
    return sealed.ok() ? *sealed : std::string();
  }

  OpenSslRandom random_;
  Secret key_ = *ParseExportKey(GenerateExportKey(random_).Expose());
};

TEST_F(ExportSealTest, RoundTrip) {
  auto opened = OpenExportValue(key_, kPath, kField, SealText("refresh-token-value"));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_TRUE(opened->Equals("refresh-token-value"));
}

TEST_F(ExportSealTest, SameValueSealsDifferently) { EXPECT_NE(SealText("same"), SealText("same")); }

TEST_F(ExportSealTest, WrongKeyFails) {
  std::string sealed = SealText("value");
  Secret other = *ParseExportKey(GenerateExportKey(random_).Expose());
  auto opened = OpenExportValue(other, kPath, kField, sealed);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ExportSealTest, TamperedByteFails) {
  std::string blob = *SealedFromBase64(SealText("value"));
  for (size_t i = 0; i < blob.size(); ++i) {
    std::string changed = blob;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(OpenExportValue(key_, kPath, kField, SealedToBase64(changed)).ok())
        << "byte " << i;
  }
}

TEST_F(ExportSealTest, TruncatedFails) {
  std::string blob = *SealedFromBase64(SealText("value"));
  blob.pop_back();
  EXPECT_FALSE(OpenExportValue(key_, kPath, kField, SealedToBase64(blob)).ok());
}

TEST_F(ExportSealTest, ValueOfAnotherRecordFails) {
  std::string sealed = SealText("value", "/authorizationProviders/github/authorizations/bob");
  auto opened = OpenExportValue(key_, kPath, kField, sealed);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find(std::string(kPath)), std::string::npos);
  EXPECT_NE(opened.error().message.find("tokens"), std::string::npos);
}

TEST_F(ExportSealTest, ValueOfAnotherFieldFails) {
  std::string sealed = SealText("value", kPath, "clientSecret");
  EXPECT_FALSE(OpenExportValue(key_, kPath, kField, sealed).ok());
}

TEST_F(ExportSealTest, NotBase64Fails) {
  EXPECT_FALSE(OpenExportValue(key_, kPath, kField, "not base64!").ok());
}

TEST_F(ExportSealTest, KeyParsing) {
  EXPECT_TRUE(ParseExportKey(Base64Encode(std::string(32, 'k')) + "\n").ok());
  EXPECT_FALSE(ParseExportKey(Base64Encode(std::string(31, 'k'))).ok());
  EXPECT_FALSE(ParseExportKey(Base64Encode(std::string(33, 'k'))).ok());
  EXPECT_FALSE(ParseExportKey("correct horse battery staple").ok());
  EXPECT_FALSE(ParseExportKey("").ok());
}

TEST_F(ExportSealTest, KeyErrorHidesTheText) {
  auto parsed = ParseExportKey("my-secret-passphrase");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message.find("my-secret-passphrase"), std::string::npos);
}

}  // namespace
}  // namespace credgate::crypto
