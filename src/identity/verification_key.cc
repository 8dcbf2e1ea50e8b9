#include "identity/verification_key.h"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <array>
#include <atomic>

#include "common/encoding.h"
#include "common/hash.h"
#include "identity/identity_errors.h"

namespace credgate::identity {
namespace {

constexpr int kMinRsaBits = 2048;

// The EC curves of RFC 7518 §3.4 and §6.2.1.1, with OpenSSL's group names.
struct Curve {
  KeyType type;
  std::string_view jwk_name;  // The JWK `crv`.
  // OpenSSL's group name. A literal, because OSSL_PARAM_BLD keeps the pointer until it builds.
  const char* group;
  size_t coordinate_bytes;    // The length of x, y, R and S.
};
constexpr Curve kCurves[] = {
    {KeyType::kEcP256, "P-256", "prime256v1", 32},
    {KeyType::kEcP384, "P-384", "secp384r1", 48},
    {KeyType::kEcP521, "P-521", "secp521r1", 66},
};

const Curve* CurveOfType(KeyType type) {
  for (const Curve& curve : kCurves) {
    if (curve.type == type) return &curve;
  }
  return nullptr;
}

enum class Scheme { kPkcs1, kPss, kEcdsa };

// The digests of the JWS algorithms, as indexes of FetchedDigest().
enum class Digest { kSha256, kSha384, kSha512 };

// The JWS algorithms of RFC 7518 §3.1 that credgate verifies.
struct Algorithm {
  JwsAlgorithm id;
  std::string_view name;
  Scheme scheme;
  Digest digest;
  KeyType key_type;  // kRsa, or the curve ECDSA needs.
};
constexpr Algorithm kAlgorithms[] = {
    {JwsAlgorithm::kRs256, "RS256", Scheme::kPkcs1, Digest::kSha256, KeyType::kRsa},
    {JwsAlgorithm::kRs384, "RS384", Scheme::kPkcs1, Digest::kSha384, KeyType::kRsa},
    {JwsAlgorithm::kRs512, "RS512", Scheme::kPkcs1, Digest::kSha512, KeyType::kRsa},
    {JwsAlgorithm::kPs256, "PS256", Scheme::kPss, Digest::kSha256, KeyType::kRsa},
    {JwsAlgorithm::kPs384, "PS384", Scheme::kPss, Digest::kSha384, KeyType::kRsa},
    {JwsAlgorithm::kPs512, "PS512", Scheme::kPss, Digest::kSha512, KeyType::kRsa},
    {JwsAlgorithm::kEs256, "ES256", Scheme::kEcdsa, Digest::kSha256, KeyType::kEcP256},
    {JwsAlgorithm::kEs384, "ES384", Scheme::kEcdsa, Digest::kSha384, KeyType::kEcP384},
    {JwsAlgorithm::kEs512, "ES512", Scheme::kEcdsa, Digest::kSha512, KeyType::kEcP521},
};

// Returns the digest algorithm, fetched once per process, or null when no loaded provider
// offers it.
const EVP_MD* FetchedDigest(Digest digest) {
  static const std::array<EVP_MD*, 3> fetched = {
      EVP_MD_fetch(nullptr, "SHA256", nullptr),
      EVP_MD_fetch(nullptr, "SHA384", nullptr),
      EVP_MD_fetch(nullptr, "SHA512", nullptr),
  };
  return fetched[static_cast<size_t>(digest)];
}

const Algorithm& AlgorithmInfo(JwsAlgorithm id) {
  for (const Algorithm& algorithm : kAlgorithms) {
    if (algorithm.id == id) return algorithm;
  }
  return kAlgorithms[0];  // Unreachable: the table lists every enumerator.
}

struct BignumDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using BignumPtr = std::unique_ptr<BIGNUM, BignumDeleter>;

struct ParamBuildDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

Error KeyError(std::string_view kid, std::string_view problem) {
  return MakeError(ErrorCode::kInvalidArgument, fmt::format("JWK '{}': {}", kid, problem));
}

Error PublicKeyError(std::string_view kid, std::string_view problem) {
  return MakeError(ErrorCode::kInvalidArgument, fmt::format("key '{}': {}", kid, problem));
}

// Returns the base64url-decoded string member `name`, or nullopt when missing or malformed.
std::optional<std::string> DecodedMember(const boost::json::object& jwk, std::string_view name) {
  const boost::json::value* value = jwk.if_contains(name);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  const std::string_view text = value->as_string();
  if (text.empty() || text.find('=') != std::string_view::npos) return std::nullopt;
  return Base64UrlDecode(text);
}

BignumPtr ToBignum(std::string_view bytes) {
  return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                             static_cast<int>(bytes.size()), nullptr));
}

// Runs EVP_PKEY_fromdata for a public key of `key_type` ("RSA" or "EC") built from `bld`.
EvpPkeyPtr KeyFromParams(const char* key_type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return nullptr;
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, key_type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) return nullptr;
  return EvpPkeyPtr(key);
}

Result<EvpPkeyPtr> RsaKeyFromJwk(const boost::json::object& jwk, std::string_view kid) {
  std::optional<std::string> n = DecodedMember(jwk, "n");
  if (!n) return KeyError(kid, "'n' is missing or not base64url");
  std::optional<std::string> e = DecodedMember(jwk, "e");
  if (!e) return KeyError(kid, "'e' is missing or not base64url");

  BignumPtr modulus = ToBignum(*n);
  BignumPtr exponent = ToBignum(*e);
  if (!modulus || !exponent) return KeyError(kid, "'n' or 'e' could not be decoded");
  const int bits = BN_num_bits(modulus.get());
  if (bits < kMinRsaBits) {
    return KeyError(
        kid, fmt::format("RSA modulus has {} bits, fewer than the minimum {}", bits, kMinRsaBits));
  }

  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get())) {
    return KeyError(kid, "RSA parameters could not be built");
  }
  EvpPkeyPtr key = KeyFromParams("RSA", bld.get());
  if (!key) return KeyError(kid, "OpenSSL rejected the RSA public key");
  return key;
}

Result<EvpPkeyPtr> EcKeyFromJwk(const boost::json::object& jwk, std::string_view kid,
                                KeyType* type) {
  const boost::json::value* crv = jwk.if_contains("crv");
  const Curve* curve = nullptr;
  for (const Curve& candidate : kCurves) {
    if (crv != nullptr && crv->is_string() && crv->as_string() == candidate.jwk_name) {
      curve = &candidate;
    }
  }
  if (curve == nullptr) {
    return KeyError(kid, "'crv' is missing or not one of P-256, P-384 and P-521");
  }
  *type = curve->type;
  std::optional<std::string> x = DecodedMember(jwk, "x");
  std::optional<std::string> y = DecodedMember(jwk, "y");
  if (!x || !y || x->size() != curve->coordinate_bytes || y->size() != curve->coordinate_bytes) {
    return KeyError(kid, fmt::format("'x' and 'y' must be {}-byte base64url values for {}",
                                     curve->coordinate_bytes, curve->jwk_name));
  }

  // The uncompressed SEC 1 point encoding: 0x04 || X || Y.
  std::string point = "\x04" + *x + *y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return KeyError(kid, "EC parameters could not be built");
  }
  EvpPkeyPtr key = KeyFromParams("EC", bld.get());
  if (!key) return KeyError(kid, fmt::format("'x' and 'y' are not a point on {}", curve->jwk_name));

  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return KeyError(kid, fmt::format("'x' and 'y' are not a valid {} public key", curve->jwk_name));
  }
  return key;
}

// Converts a JWS ECDSA signature (R || S, `coordinate_bytes` each, RFC 7518 §3.4) to the DER
// ECDSA-Sig-Value that EVP_DigestVerify expects. Returns "" when the length is wrong.
std::string RawEcdsaToDer(std::string_view raw, size_t coordinate_bytes) {
  if (raw.size() != 2 * coordinate_bytes) return {};
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BignumPtr r = ToBignum(raw.substr(0, coordinate_bytes));
  BignumPtr s = ToBignum(raw.substr(coordinate_bytes));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return {};
  // ECDSA_SIG_set0 took ownership of r and s.
  r.release();
  s.release();

  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return {};
  std::string result(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return result;
}

// Returns a new EVP_PKEY_CTX of `key`, initialized to verify digests of `info`'s algorithm, or
// null when an OpenSSL call fails.
EVP_PKEY_CTX* NewVerifyContext(EVP_PKEY* key, const Algorithm& info) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  const EVP_MD* md = FetchedDigest(info.digest);
  if (!ctx || md == nullptr || EVP_PKEY_verify_init(ctx.get()) != 1) return nullptr;
  if (info.scheme == Scheme::kPkcs1 &&
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
    return nullptr;
  }
  // RFC 7518 §3.5: the salt is as long as the digest, and MGF1 uses the same hash.
  if (info.scheme == Scheme::kPss &&
      (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1)) {
    return nullptr;
  }
  if (EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) return nullptr;
  return ctx.release();
}

// EVP_DigestVerifyInit looks the signature and digest algorithms up in the provider and builds
// new contexts on every call. That added about 3 µs to an RS256 verification in bench/micro, and
// about 20 µs per request in the gateway, probably because the lookups there run on cold
// caches. Each thread keeps the verification contexts of the last 8 (key, algorithm) pairs it
// used, each initialized once. A context holds a reference to its EVP_PKEY, and its key is
// identified by a process-unique id, so a context never outlives its key's memory and is never
// used for a newer key at the same address.
class ThreadVerifyContexts {
 public:
  ThreadVerifyContexts() = default;
  ThreadVerifyContexts(const ThreadVerifyContexts&) = delete;
  ThreadVerifyContexts& operator=(const ThreadVerifyContexts&) = delete;
  ~ThreadVerifyContexts() {
    for (Slot& slot : slots_) EVP_PKEY_CTX_free(slot.ctx);
  }

  // Returns this thread's context for (`key_id`, `info`), creating it from `key` when absent.
  // Returns null when OpenSSL fails to create one.
  EVP_PKEY_CTX* Get(uint64_t key_id, EVP_PKEY* key, const Algorithm& info) {
    for (Slot& slot : slots_) {
      if (slot.key_id == key_id && slot.algorithm == info.id) return slot.ctx;
    }
    EVP_PKEY_CTX* ctx = NewVerifyContext(key, info);
    if (ctx == nullptr) return nullptr;
    Slot& slot = slots_[next_];
    next_ = (next_ + 1) % slots_.size();
    EVP_PKEY_CTX_free(slot.ctx);
    slot = Slot{key_id, info.id, ctx};
    return ctx;
  }

 private:
  struct Slot {
    uint64_t key_id = 0;  // 0: empty. Key ids start at 1.
    JwsAlgorithm algorithm = JwsAlgorithm::kRs256;
    EVP_PKEY_CTX* ctx = nullptr;
  };
  std::array<Slot, 8> slots_;
  size_t next_ = 0;  // The slot the next new context replaces.
};

uint64_t NextKeyId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

std::optional<JwsAlgorithm> ParseJwsAlgorithm(std::string_view name) {
  for (const Algorithm& algorithm : kAlgorithms) {
    if (algorithm.name == name) return algorithm.id;
  }
  return std::nullopt;
}

std::string_view JwsAlgorithmName(JwsAlgorithm algorithm) { return AlgorithmInfo(algorithm).name; }

VerificationKey::VerificationKey(std::string kid, KeyType type,
                                 std::optional<JwsAlgorithm> algorithm, EvpPkeyPtr key)
    : id_(NextKeyId()),
      kid_(std::move(kid)),
      type_(type),
      algorithm_(algorithm),
      key_(std::move(key)) {}

Result<std::shared_ptr<const VerificationKey>> VerificationKey::FromPublicKey(std::string kid,
                                                                              EVP_PKEY* key) {
  KeyType type;
  if (EVP_PKEY_is_a(key, "RSA")) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits) {
      return PublicKeyError(
          kid, fmt::format("RSA key has {} bits, fewer than the minimum {}", bits, kMinRsaBits));
    }
    type = KeyType::kRsa;
  } else if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t length = 0;
    const Curve* curve = nullptr;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &length) == 1) {
      for (const Curve& candidate : kCurves) {
        if (std::string_view(candidate.group) == std::string_view(group, length)) curve = &candidate;
      }
    }
    if (curve == nullptr) {
      ERR_clear_error();
      return PublicKeyError(kid, "the EC key is not on P-256, P-384 or P-521");
    }
    type = curve->type;
  } else {
    return PublicKeyError(
        kid, fmt::format("key type {} is not supported (RSA and EC on P-256, P-384 or P-521 are)",
                         EVP_PKEY_get0_type_name(key)));
  }
  EVP_PKEY_up_ref(key);
  return std::make_shared<const VerificationKey>(std::move(kid), type, std::nullopt,
                                                 EvpPkeyPtr(key));
}

Result<std::shared_ptr<const VerificationKey>> VerificationKey::FromJwk(
    const boost::json::object& jwk) {
  std::string kid;
  if (const boost::json::value* value = jwk.if_contains("kid")) {
    if (!value->is_string()) return KeyError("", "'kid' is not a string");
    kid = value->as_string();
  }

  std::optional<JwsAlgorithm> algorithm;
  if (const boost::json::value* value = jwk.if_contains("alg")) {
    if (!value->is_string()) return KeyError(kid, "'alg' is not a string");
    algorithm = ParseJwsAlgorithm(value->as_string());
    if (!algorithm) {
      return KeyError(kid, fmt::format("'alg' {} is not supported (RS256, RS384, RS512, PS256, "
                                       "PS384, PS512, ES256, ES384 and ES512 are)",
                                       std::string_view(value->as_string())));
    }
  }

  const boost::json::value* kty = jwk.if_contains("kty");
  if (kty == nullptr || !kty->is_string()) return KeyError(kid, "'kty' is missing");

  KeyType type = KeyType::kRsa;
  Result<EvpPkeyPtr> key = KeyError(kid, "unreachable");
  if (kty->as_string() == "RSA") {
    type = KeyType::kRsa;
    key = RsaKeyFromJwk(jwk, kid);
  } else if (kty->as_string() == "EC") {
    key = EcKeyFromJwk(jwk, kid, &type);
  } else {
    return KeyError(kid, fmt::format("'kty' {} is not supported (RSA and EC are)",
                                     std::string_view(kty->as_string())));
  }
  if (!key.ok()) return key.error();

  auto result = std::make_shared<const VerificationKey>(std::move(kid), type, algorithm,
                                                        std::move(key).value());
  if (algorithm && !result->Permits(*algorithm)) {
    return KeyError(result->kid(),
                    fmt::format("'alg' {} does not fit 'kty' {}", JwsAlgorithmName(*algorithm),
                                std::string_view(kty->as_string())));
  }
  return std::shared_ptr<const VerificationKey>(std::move(result));
}

Error VerificationKey::InvalidSignature() const {
  return JwtError(fmt::format("JWT signature does not verify with key '{}'", kid_),
                  kReasonInvalidSignature);
}

bool VerificationKey::Permits(JwsAlgorithm algorithm) const {
  if (algorithm_ && *algorithm_ != algorithm) return false;
  return AlgorithmInfo(algorithm).key_type == type_;
}

Status VerificationKey::Verify(JwsAlgorithm algorithm, std::string_view signing_input,
                               std::string_view signature) const {
  if (!Permits(algorithm)) {
    return JwtError(
        fmt::format("alg {} is not allowed for key '{}'", JwsAlgorithmName(algorithm), kid_),
        kReasonAlgorithmMismatch);
  }
  const Algorithm& info = AlgorithmInfo(algorithm);
  std::string der;
  if (info.scheme == Scheme::kEcdsa) {
    der = RawEcdsaToDer(signature, CurveOfType(type_)->coordinate_bytes);
    if (der.empty()) return InvalidSignature();
    signature = der;
  }

  unsigned char digest[EVP_MAX_MD_SIZE];
  const size_t digest_length = DigestInto(FetchedDigest(info.digest), signing_input, digest);
  thread_local ThreadVerifyContexts contexts;
  EVP_PKEY_CTX* ctx = contexts.Get(id_, key_.get(), info);
  if (digest_length == 0 || ctx == nullptr) {
    ERR_clear_error();
    return MakeError(
        ErrorCode::kInternal,
        fmt::format("OpenSSL failed to prepare {} verification for key '{}'", info.name, kid_));
  }
  if (EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                      signature.size(), digest, digest_length) != 1) {
    // A failed verification leaves entries in this thread's OpenSSL error queue.
    ERR_clear_error();
    return InvalidSignature();
  }
  return OkStatus();
}

}  // namespace credgate::identity
