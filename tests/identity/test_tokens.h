// TestSigner: RSA and EC P-256 key pairs generated with OpenSSL, a JWKS of their public halves,
// and compact JWS tokens signed with RS256, PS256 or ES256. For tests of any module that needs
// caller tokens. Header-only, and it depends only on OpenSSL, Boost.JSON and common/encoding.h.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/encoding.h"

namespace credgate::identity::testing {

class TestSigner {
 public:
  // Generates a 2048-bit RSA key and a P-256 key. RSA generation takes tens of milliseconds, so
  // share one signer across the cases of a suite.
  explicit TestSigner(std::string rsa_kid = "rsa-1", std::string ec_kid = "ec-1")
      : rsa_kid_(std::move(rsa_kid)),
        ec_kid_(std::move(ec_kid)),
        rsa_(EVP_RSA_gen(2048)),
        ec_(EVP_EC_gen("P-256")) {
    if (!rsa_ || !ec_) throw std::runtime_error("TestSigner: key generation failed");
  }

  const std::string& rsa_kid() const { return rsa_kid_; }
  const std::string& ec_kid() const { return ec_kid_; }
  EVP_PKEY* rsa_key() const { return rsa_.get(); }
  EVP_PKEY* ec_key() const { return ec_.get(); }

  std::string SignRs256(const boost::json::object& payload) const {
    return Sign(Header("RS256", rsa_kid_), payload);
  }
  std::string SignPs256(const boost::json::object& payload) const {
    return Sign(Header("PS256", rsa_kid_), payload);
  }
  std::string SignEs256(const boost::json::object& payload) const {
    return Sign(Header("ES256", ec_kid_), payload);
  }

  // Returns {"alg": alg, "typ": "JWT", "kid": kid}, without `kid` when it is empty.
  static boost::json::object Header(std::string_view alg, std::string_view kid) {
    boost::json::object header{{"alg", alg}, {"typ", "JWT"}};
    if (!kid.empty()) header["kid"] = kid;
    return header;
  }

  // Signs with the key that header["alg"] names: RS256 and PS256 with the RSA key, ES256 with
  // the EC key. Any other alg produces an empty signature part.
  std::string Sign(const boost::json::object& header, const boost::json::object& payload) const {
    const std::string input = Base64UrlEncode(boost::json::serialize(header)) + "." +
                              Base64UrlEncode(boost::json::serialize(payload));
    const std::string_view alg = header.at("alg").as_string();
    std::string signature;
    if (alg == "RS256" || alg == "PS256") {
      signature = DigestSign(rsa_.get(), input, alg == "PS256");
    } else if (alg == "ES256") {
      signature = DerToRawEcdsa(DigestSign(ec_.get(), input, false));
    }
    return input + "." + Base64UrlEncode(signature);
  }

  // Returns the public RSA key as a JWK with `use: sig` and no `alg`, so it serves RS256 and PS256.
  boost::json::object RsaJwk() const {
    return {{"kty", "RSA"},
            {"use", "sig"},
            {"kid", rsa_kid_},
            {"n", Base64UrlEncode(BignumParam(rsa_.get(), OSSL_PKEY_PARAM_RSA_N, 0))},
            {"e", Base64UrlEncode(BignumParam(rsa_.get(), OSSL_PKEY_PARAM_RSA_E, 0))}};
  }

  // Returns the public EC key as a JWK with `alg: ES256`.
  boost::json::object EcJwk() const {
    return {{"kty", "EC"},
            {"use", "sig"},
            {"alg", "ES256"},
            {"kid", ec_kid_},
            {"crv", "P-256"},
            {"x", Base64UrlEncode(BignumParam(ec_.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
            {"y", Base64UrlEncode(BignumParam(ec_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
  }

  // Returns the JWKS document {"keys": [RsaJwk(), EcJwk()]}.
  std::string Jwks() const {
    return boost::json::serialize(boost::json::object{{"keys", {RsaJwk(), EcJwk()}}});
  }

  // Returns the RSA public key in PEM (SubjectPublicKeyInfo), the secret an HS256 confusion
  // attack uses.
  std::string RsaPublicKeyPem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), rsa_.get());
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(length));
  }

 private:
  struct PkeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };

  static std::string BignumParam(EVP_PKEY* key, const char* name, int pad_to) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
      throw std::runtime_error("TestSigner: key parameter missing");
    }
    std::string bytes(static_cast<size_t>(pad_to > 0 ? pad_to : BN_num_bytes(bn)), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()),
                 static_cast<int>(bytes.size()));
    BN_free(bn);
    return bytes;
  }

  static std::string DigestSign(EVP_PKEY* key, std::string_view input, bool pss) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pkey_ctx = nullptr;
    if (EVP_DigestSignInit(ctx.get(), &pkey_ctx, EVP_sha256(), nullptr, key) != 1) {
      throw std::runtime_error("TestSigner: EVP_DigestSignInit failed");
    }
    if (pss) {
      EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t length = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size());
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                       input.size()) != 1) {
      throw std::runtime_error("TestSigner: EVP_DigestSign failed");
    }
    signature.resize(length);
    return signature;
  }

  // Converts a DER ECDSA-Sig-Value to the 64-byte R || S form of RFC 7518 §3.4.
  static std::string DerToRawEcdsa(const std::string& der) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size()));
    if (sig == nullptr) throw std::runtime_error("TestSigner: bad DER ECDSA signature");
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
  }

  std::string rsa_kid_;
  std::string ec_kid_;
  std::unique_ptr<EVP_PKEY, PkeyDeleter> rsa_;
  std::unique_ptr<EVP_PKEY, PkeyDeleter> ec_;
};

}  // namespace credgate::identity::testing
