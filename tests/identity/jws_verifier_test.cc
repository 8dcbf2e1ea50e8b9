#include "identity/jws_verifier.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/hash.h"
#include "identity/identity_errors.h"
#include "test_tokens.h"

namespace credgate::identity {
namespace {

const boost::json::object kPayload{{"iss", "https://issuer.example"}, {"sub", "alice"}};

class JwsVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signer_ = new testing::TestSigner();
    other_ = new testing::TestSigner();  // Same kids, different keys.
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete other_;
  }

  // Decodes `token` and verifies it against `jwks` (the signer's JWKS by default).
  static Status Verify(const std::string& token, const std::string& jwks = signer_->Jwks()) {
    Result<DecodedJwt> jwt = DecodeJwt(token);
    if (!jwt.ok()) return jwt.error();
    Result<std::shared_ptr<const KeySet>> keys = ParseJwks(jwks);
    if (!keys.ok()) return keys.error();
    return VerifyJws(*jwt, **keys, "test-issuer");
  }

  static std::string JwksOf(std::initializer_list<boost::json::object> keys) {
    boost::json::array array;
    for (const auto& key : keys) array.push_back(key);
    return boost::json::serialize(boost::json::object{{"keys", array}});
  }

  static testing::TestSigner* signer_;
  static testing::TestSigner* other_;
};

testing::TestSigner* JwsVerifierTest::signer_ = nullptr;
testing::TestSigner* JwsVerifierTest::other_ = nullptr;

TEST_F(JwsVerifierTest, AcceptsRs256) {
  Status status = Verify(signer_->SignRs256(kPayload));
  EXPECT_TRUE(status.ok()) << status.error().message;
}

TEST_F(JwsVerifierTest, AcceptsPs256) {
  Status status = Verify(signer_->SignPs256(kPayload));
  EXPECT_TRUE(status.ok()) << status.error().message;
}

TEST_F(JwsVerifierTest, AcceptsEs256) {
  Status status = Verify(signer_->SignEs256(kPayload));
  EXPECT_TRUE(status.ok()) << status.error().message;
}

TEST_F(JwsVerifierTest, RejectsTamperedPayload) {
  for (const std::string& token :
       {signer_->SignRs256(kPayload), signer_->SignPs256(kPayload), signer_->SignEs256(kPayload)}) {
    const size_t first_dot = token.find('.');
    const size_t second_dot = token.find('.', first_dot + 1);
    boost::json::object forged = kPayload;
    forged["sub"] = "mallory";
    const std::string tampered = token.substr(0, first_dot + 1) +
                                 Base64UrlEncode(boost::json::serialize(forged)) +
                                 token.substr(second_dot);
    Status status = Verify(tampered);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().reason, kReasonInvalidSignature);
  }
}

TEST_F(JwsVerifierTest, RejectsWrongKey) {
  for (const std::string& token :
       {other_->SignRs256(kPayload), other_->SignPs256(kPayload), other_->SignEs256(kPayload)}) {
    Status status = Verify(token);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().reason, kReasonInvalidSignature);
  }
}

TEST_F(JwsVerifierTest, RejectsTruncatedEcSignature) {
  const std::string token = signer_->SignEs256(kPayload);
  const size_t last_dot = token.rfind('.');
  const std::string signature = *Base64UrlDecode(token.substr(last_dot + 1));
  Status status = Verify(token.substr(0, last_dot + 1) + Base64UrlEncode(signature.substr(0, 63)));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, kReasonInvalidSignature);
}

TEST_F(JwsVerifierTest, RejectsAlgNone) {
  const std::string token = Base64UrlEncode(R"({"alg":"none","kid":"rsa-1"})") + "." +
                            Base64UrlEncode(boost::json::serialize(kPayload)) + ".";
  Status status = Verify(token);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, kReasonUnsupportedAlgorithm);
}

TEST_F(JwsVerifierTest, RejectsHs256WithPublicKeySecret) {
  const std::string input = Base64UrlEncode(R"({"alg":"HS256","kid":"rsa-1"})") + "." +
                            Base64UrlEncode(boost::json::serialize(kPayload));
  const std::string token =
      input + "." + Base64UrlEncode(HmacSha256(signer_->RsaPublicKeyPem(), input));
  Status status = Verify(token);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, kReasonUnsupportedAlgorithm);
}

TEST_F(JwsVerifierTest, RejectsUnsupportedAlg) {
  Status status = Verify(signer_->Sign(testing::TestSigner::Header("EdDSA", "rsa-1"), kPayload));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, kReasonUnsupportedAlgorithm);
}

TEST_F(JwsVerifierTest, RejectsAlgOfOtherKeyType) {
  // An ES256 signature presented under the RSA key's kid.
  Status status = Verify(signer_->Sign(testing::TestSigner::Header("ES256", "rsa-1"), kPayload));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, kReasonAlgorithmMismatch);
}

TEST_F(JwsVerifierTest, RejectsAlgOtherThanDeclared) {
  boost::json::object rsa = signer_->RsaJwk();
  rsa["alg"] = "RS256";
  Status status = Verify(signer_->SignPs256(kPayload), JwksOf({rsa}));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, kReasonAlgorithmMismatch);
}

TEST_F(JwsVerifierTest, RejectsUnknownKid) {
  Status status = Verify(signer_->Sign(testing::TestSigner::Header("RS256", "other"), kPayload));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, kReasonUnknownKeyId);
}

TEST_F(JwsVerifierTest, RejectsNoKidWithSeveralKeys) {
  Status status = Verify(signer_->Sign(testing::TestSigner::Header("RS256", ""), kPayload));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().reason, kReasonInvalidJwt);
}

TEST_F(JwsVerifierTest, AcceptsNoKidWithOneKey) {
  Status status = Verify(signer_->Sign(testing::TestSigner::Header("RS256", ""), kPayload),
                         JwksOf({signer_->RsaJwk()}));
  EXPECT_TRUE(status.ok()) << status.error().message;
}

}  // namespace
}  // namespace credgate::identity
