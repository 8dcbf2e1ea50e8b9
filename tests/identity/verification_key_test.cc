// Each JWS algorithm verifies a signature that OpenSSL made with a fresh key, through a JWK of
// the public half, and rejects a changed signing input and a key of another type or curve.
#include "identity/verification_key.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <map>
#include <stdexcept>
#include <string>

#include "common/encoding.h"

namespace credgate::identity {
namespace {

struct AlgorithmCase {
  std::string name;   // The JWS alg.
  std::string curve;  // The JWK crv for ES*, empty for RSA.
  size_t coordinate_bytes;
  const EVP_MD* (*digest)();
  bool pss;
};

const AlgorithmCase kCases[] = {
    {"RS256", "", 0, EVP_sha256, false},       {"RS384", "", 0, EVP_sha384, false},
    {"RS512", "", 0, EVP_sha512, false},       {"PS256", "", 0, EVP_sha256, true},
    {"PS384", "", 0, EVP_sha384, true},        {"PS512", "", 0, EVP_sha512, true},
    {"ES256", "P-256", 32, EVP_sha256, false}, {"ES384", "P-384", 48, EVP_sha384, false},
    {"ES512", "P-521", 66, EVP_sha512, false},
};

std::string BignumParam(EVP_PKEY* key, const char* name, size_t pad_to) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("missing parameter");
  std::string bytes(pad_to > 0 ? pad_to : static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  BN_free(bn);
  return bytes;
}

class VerificationKeyTest : public ::testing::TestWithParam<AlgorithmCase> {
 protected:
  static void SetUpTestSuite() {
    rsa_ = EVP_RSA_gen(2048);
    for (const char* curve : {"P-256", "P-384", "P-521"}) ec_[curve] = EVP_EC_gen(curve);
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    for (auto& [curve, key] : ec_) EVP_PKEY_free(key);
  }

  static EVP_PKEY* KeyFor(const AlgorithmCase& c) { return c.curve.empty() ? rsa_ : ec_[c.curve]; }

  static boost::json::object Jwk(const AlgorithmCase& c) {
    EVP_PKEY* key = KeyFor(c);
    if (c.curve.empty()) {
      return {{"kty", "RSA"},
              {"kid", "k"},
              {"n", Base64UrlEncode(BignumParam(key, OSSL_PKEY_PARAM_RSA_N, 0))},
              {"e", Base64UrlEncode(BignumParam(key, OSSL_PKEY_PARAM_RSA_E, 0))}};
    }
    return {{"kty", "EC"},
            {"kid", "k"},
            {"crv", c.curve},
            {"x", Base64UrlEncode(BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_X, c.coordinate_bytes))},
            {"y", Base64UrlEncode(BignumParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, c.coordinate_bytes))}};
  }

  // Signs `input` as the JWS algorithm of `c` does, with ECDSA signatures as R || S. PSS uses a
  // salt of `pss_salt` bytes, by default as long as the digest.
  static std::string Sign(const AlgorithmCase& c, std::string_view input,
                          int pss_salt = RSA_PSS_SALTLEN_DIGEST) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pkey_ctx = nullptr;
    if (EVP_DigestSignInit(ctx.get(), &pkey_ctx, c.digest(), nullptr, KeyFor(c)) != 1) {
      throw std::runtime_error("EVP_DigestSignInit failed");
    }
    if (c.pss) {
      EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, pss_salt);
    }
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    size_t length = 0;
    EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size());
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                       input.size()) != 1) {
      throw std::runtime_error("EVP_DigestSign failed");
    }
    signature.resize(length);
    if (c.curve.empty()) return signature;

    const auto* cursor = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(signature.size()));
    std::string raw(2 * c.coordinate_bytes, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    const int size = static_cast<int>(c.coordinate_bytes);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, size);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + size, size);
    ECDSA_SIG_free(sig);
    return raw;
  }

  static EVP_PKEY* rsa_;
  static std::map<std::string, EVP_PKEY*> ec_;
};

EVP_PKEY* VerificationKeyTest::rsa_ = nullptr;
std::map<std::string, EVP_PKEY*> VerificationKeyTest::ec_;

TEST_P(VerificationKeyTest, VerifiesOwnSignature) {
  const AlgorithmCase& c = GetParam();
  auto algorithm = ParseJwsAlgorithm(c.name);
  ASSERT_TRUE(algorithm.has_value());
  EXPECT_EQ(JwsAlgorithmName(*algorithm), c.name);
  auto key = VerificationKey::FromJwk(Jwk(c));
  ASSERT_TRUE(key.ok()) << key.error().message;

  const std::string input = "header.payload";
  const std::string signature = Sign(c, input);
  EXPECT_TRUE((*key)->Verify(*algorithm, input, signature).ok());
  EXPECT_FALSE((*key)->Verify(*algorithm, "header.changed", signature).ok());
}

TEST_P(VerificationKeyTest, KeyOfOtherTypeOrCurveRefuses) {
  const AlgorithmCase& c = GetParam();
  const auto algorithm = ParseJwsAlgorithm(c.name).value();
  for (const AlgorithmCase& other : kCases) {
    if (other.curve == c.curve) continue;
    auto key = VerificationKey::FromJwk(Jwk(other));
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_FALSE((*key)->Permits(algorithm)) << other.name << " key with " << c.name;
  }
}

TEST_F(VerificationKeyTest, PssRejectsSaltOfOtherLength) {
  // RFC 7518 §3.5: the salt is as long as the digest, 32 bytes for PS256.
  const AlgorithmCase& ps256 = kCases[3];
  ASSERT_EQ(ps256.name, "PS256");
  auto key = VerificationKey::FromJwk(Jwk(ps256));
  ASSERT_TRUE(key.ok()) << key.error().message;
  const std::string input = "header.payload";

  EXPECT_TRUE((*key)->Verify(JwsAlgorithm::kPs256, input, Sign(ps256, input)).ok());
  EXPECT_FALSE((*key)->Verify(JwsAlgorithm::kPs256, input, Sign(ps256, input, 10)).ok());
  EXPECT_FALSE((*key)->Verify(JwsAlgorithm::kPs256, input, Sign(ps256, input, 0)).ok());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, VerificationKeyTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<AlgorithmCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace credgate::identity
