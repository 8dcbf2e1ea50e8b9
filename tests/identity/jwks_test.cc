#include "identity/jwks.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "test_tokens.h"

namespace credgate::identity {
namespace {

class JwksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { signer_ = new testing::TestSigner(); }
  static void TearDownTestSuite() { delete signer_; }

  static Result<std::shared_ptr<const KeySet>> Parse(boost::json::array keys) {
    return ParseJwks(boost::json::serialize(boost::json::object{{"keys", std::move(keys)}}));
  }

  static testing::TestSigner* signer_;
};

testing::TestSigner* JwksTest::signer_ = nullptr;

TEST_F(JwksTest, ParsesRsaAndEc) {
  Result<std::shared_ptr<const KeySet>> keys = ParseJwks(signer_->Jwks());
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ((*keys)->keys().size(), 2u);
  EXPECT_EQ((*keys)->keys()[0]->type(), KeyType::kRsa);
  EXPECT_FALSE((*keys)->keys()[0]->algorithm().has_value());
  EXPECT_EQ((*keys)->keys()[1]->type(), KeyType::kEcP256);
  EXPECT_EQ((*keys)->keys()[1]->algorithm(), JwsAlgorithm::kEs256);
}

TEST_F(JwksTest, SkipsUnusableKeys) {
  boost::json::object encryption = signer_->RsaJwk();
  encryption["use"] = "enc";
  boost::json::object symmetric{{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}};
  boost::json::object wrong_ops = signer_->RsaJwk();
  wrong_ops.erase("use");
  wrong_ops["key_ops"] = boost::json::array{"encrypt"};
  boost::json::object p384 = signer_->EcJwk();
  p384["crv"] = "P-384";

  Result<std::shared_ptr<const KeySet>> keys =
      Parse({encryption, symmetric, wrong_ops, p384, 42, signer_->EcJwk()});
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ((*keys)->keys().size(), 1u);
  EXPECT_EQ((*keys)->keys()[0]->kid(), signer_->ec_kid());
  EXPECT_EQ((*keys)->skipped().size(), 5u);
}

TEST_F(JwksTest, RejectsSetWithoutUsableKey) {
  boost::json::object encryption = signer_->RsaJwk();
  encryption["use"] = "enc";
  Result<std::shared_ptr<const KeySet>> keys = Parse({encryption});
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.error().message.find("no usable signing key"), std::string::npos);
}

TEST_F(JwksTest, RejectsMissingKeysArray) {
  EXPECT_FALSE(ParseJwks(R"({"key":[]})").ok());
  EXPECT_FALSE(ParseJwks("not json").ok());
}

TEST_F(JwksTest, RejectsTooManyKeys) {
  boost::json::array many(kMaxJwksKeys + 1, signer_->EcJwk());
  EXPECT_FALSE(Parse(std::move(many)).ok());
}

TEST_F(JwksTest, FindByKid) {
  Result<std::shared_ptr<const KeySet>> keys = ParseJwks(signer_->Jwks());
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)->FindByKid(signer_->rsa_kid()).size(), 1u);
  EXPECT_TRUE((*keys)->FindByKid("absent").empty());
}

struct JwkCase {
  std::string name;
  boost::json::object jwk;
  std::string message_part;
};

class JwkReject : public ::testing::TestWithParam<JwkCase> {};

TEST_P(JwkReject, FailsWithField) {
  Result<std::shared_ptr<const VerificationKey>> key = VerificationKey::FromJwk(GetParam().jwk);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(key.error().message.find(GetParam().message_part), std::string::npos)
      << key.error().message;
}

// A 512-bit modulus (64 bytes of 0xff) and exponent 65537.
const std::string kSmallModulus = Base64UrlEncode(std::string(64, '\xff'));

INSTANTIATE_TEST_SUITE_P(
    Cases, JwkReject,
    ::testing::Values(
        JwkCase{"SmallRsa",
                {{"kty", "RSA"}, {"kid", "k"}, {"n", kSmallModulus}, {"e", "AQAB"}},
                "fewer than the minimum 2048"},
        JwkCase{"MissingN", {{"kty", "RSA"}, {"kid", "k"}, {"e", "AQAB"}}, "'n'"},
        JwkCase{"UnknownKty", {{"kty", "OKP"}, {"kid", "k"}}, "'kty' OKP"},
        JwkCase{"UnsupportedAlg", {{"kty", "RSA"}, {"kid", "k"}, {"alg", "EdDSA"}}, "EdDSA"},
        JwkCase{"UnknownCurve",
                {{"kty", "EC"}, {"kid", "k"}, {"crv", "secp256k1"}, {"x", "AAAA"}, {"y", "AAAA"}},
                "'crv'"},
        JwkCase{"ShortEcX",
                {{"kty", "EC"}, {"kid", "k"}, {"crv", "P-256"}, {"x", "AAAA"}, {"y", "AAAA"}},
                "32-byte"},
        JwkCase{"PointOffCurve",
                {{"kty", "EC"},
                 {"kid", "k"},
                 {"crv", "P-256"},
                 {"x", Base64UrlEncode(std::string(32, '\x01'))},
                 {"y", Base64UrlEncode(std::string(32, '\x01'))}},
                "P-256"}),
    [](const ::testing::TestParamInfo<JwkCase>& info) { return info.param.name; });

TEST_F(JwksTest, RejectsAlgOfOtherKeyType) {
  boost::json::object jwk = signer_->RsaJwk();
  jwk["alg"] = "ES256";
  Result<std::shared_ptr<const VerificationKey>> key = VerificationKey::FromJwk(jwk);
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("does not fit"), std::string::npos);
}

}  // namespace
}  // namespace credgate::identity
