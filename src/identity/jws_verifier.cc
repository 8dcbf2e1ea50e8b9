#include "identity/jws_verifier.h"

#include <fmt/format.h>

#include "identity/identity_errors.h"

namespace credgate::identity {

Status VerifyJws(const DecodedJwt& jwt, const KeySet& keys, std::string_view issuer_id) {
  if (jwt.alg == "none") {
    return JwtError("JWT alg 'none' is rejected because unsigned tokens are never accepted",
                    kReasonUnsupportedAlgorithm);
  }
  if (jwt.alg.starts_with("HS")) {
    return JwtError(
        fmt::format("JWT alg '{}' is rejected because symmetric algorithms are not accepted "
                    "for tokens of a public-key issuer",
                    jwt.alg),
        kReasonUnsupportedAlgorithm);
  }
  const std::optional<JwsAlgorithm> algorithm = ParseJwsAlgorithm(jwt.alg);
  if (!algorithm) {
    return JwtError(fmt::format("JWT alg '{}' is not supported (RS256, PS256, ES256 are)", jwt.alg),
                    kReasonUnsupportedAlgorithm);
  }

  std::shared_ptr<const VerificationKey> key;
  if (jwt.kid.empty()) {
    if (keys.keys().size() != 1) {
      return JwtError(fmt::format("JWT has no 'kid', and issuer '{}' has {} keys to choose from",
                                  issuer_id, keys.keys().size()));
    }
    key = keys.keys().front();
  } else {
    std::vector<std::shared_ptr<const VerificationKey>> candidates = keys.FindByKid(jwt.kid);
    if (candidates.empty()) {
      return JwtError(
          fmt::format("JWT kid '{}' is not in the JWKS of issuer '{}'", jwt.kid, issuer_id),
          kReasonUnknownKeyId);
    }
    for (const auto& candidate : candidates) {
      if (candidate->Permits(*algorithm)) {
        key = candidate;
        break;
      }
    }
    if (!key) {
      return JwtError(fmt::format("JWT alg '{}' is not allowed for key '{}' of issuer '{}'",
                                  jwt.alg, jwt.kid, issuer_id),
                      kReasonAlgorithmMismatch);
    }
  }

  return key->Verify(*algorithm, jwt.signing_input, jwt.signature);
}

}  // namespace credgate::identity
