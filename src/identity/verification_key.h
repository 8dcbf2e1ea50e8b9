// VerificationKey: one public key from an issuer's JWKS, decoded once into an OpenSSL 3 EVP_PKEY
// and shared read-only between threads, together with the JWS algorithms it may verify.
#pragma once

#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace credgate::identity {

// The JWS algorithms credgate verifies (RFC 7518 §3.1). Symmetric (HS*) and "none" are absent on
// purpose: an issuer's public JWKS can never carry an HMAC secret.
enum class JwsAlgorithm { kRs256, kRs384, kRs512, kPs256, kPs384, kPs512, kEs256, kEs384, kEs512 };

// Returns the algorithm named `name` (case-sensitive, as RFC 7515 §4.1.1 requires), or nullopt.
std::optional<JwsAlgorithm> ParseJwsAlgorithm(std::string_view name);
std::string_view JwsAlgorithmName(JwsAlgorithm algorithm);

enum class KeyType { kRsa, kEcP256, kEcP384, kEcP521 };

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// Immutable after construction. Verify() is thread-safe: each thread verifies through contexts of
// its own, and OpenSSL 3 allows concurrent read-only use of one EVP_PKEY.
class VerificationKey {
 public:
  // `algorithm` is the JWK's declared `alg`, or nullopt when the JWK declares none.
  VerificationKey(std::string kid, KeyType type, std::optional<JwsAlgorithm> algorithm,
                  EvpPkeyPtr key);

  // Decodes a JWK (RFC 7517 §4, RFC 7518 §6): RSA from `n`/`e` with a modulus of at least 2048
  // bits (RFC 7518 §3.3), or EC from `crv` P-256, P-384 or P-521 and `x`/`y` on the curve. Errors
  // (kInvalidArgument) name the field and the key id: an unsupported `kty`, `crv` or `alg`, or
  // a missing or malformed key parameter. The caller decides about `use` and `key_ops`.
  static Result<std::shared_ptr<const VerificationKey>> FromJwk(const boost::json::object& jwk);

  // Wraps the public part of `key` (taking a reference of its own), for a key read from an X.509
  // certificate: RSA of at least 2048 bits or EC on P-256, P-384 or P-521, with no declared
  // algorithm. Errors
  // (kInvalidArgument) name `kid` and the key type or size that is not supported.
  static Result<std::shared_ptr<const VerificationKey>> FromPublicKey(std::string kid,
                                                                      EVP_PKEY* key);

  const std::string& kid() const { return kid_; }
  KeyType type() const { return type_; }
  const std::optional<JwsAlgorithm>& algorithm() const { return algorithm_; }

  // Returns true when `algorithm` fits the key type and equals the declared `alg`, if any
  // (RFC 8725 §3.1: the key, not the token, decides which algorithm is acceptable).
  bool Permits(JwsAlgorithm algorithm) const;

  // Verifies `signature` over `signing_input` with `algorithm`: RSASSA-PKCS1-v1_5 for RS*,
  // RSASSA-PSS with MGF1 on the same hash and a salt as long as the digest for PS* (RFC 7518
  // §3.5), and ECDSA with an R||S signature on P-256, P-384 or P-521 for ES256, ES384 and ES512
  // (RFC 7518 §3.4). Returns
  // kUnauthenticated with reason "InvalidSignature" when the signature does not verify, and
  // "AlgorithmMismatch" when Permits(algorithm) is false.
  Status Verify(JwsAlgorithm algorithm, std::string_view signing_input,
                std::string_view signature) const;

 private:
  Error InvalidSignature() const;

  uint64_t id_;  // Unique in the process: names this key in each thread's verification contexts.
  std::string kid_;
  KeyType type_;
  std::optional<JwsAlgorithm> algorithm_;
  EvpPkeyPtr key_;
};

}  // namespace credgate::identity
