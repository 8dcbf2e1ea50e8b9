// Signature verification of a decoded JWT against an issuer's KeySet, with the algorithm rules of
// RFC 8725 (JWT Best Current Practices).
#pragma once

#include <string_view>

#include "common/result.h"
#include "identity/jwks.h"
#include "identity/jwt.h"

namespace credgate::identity {

// Selects the key for `jwt` and verifies its signature. Rules, each returning kUnauthenticated:
// - `alg` "none" or HS* is rejected (reason "UnsupportedAlgorithm", RFC 8725 §3.1), because an
//   unsigned token proves nothing and a public key must never serve as an HMAC secret. Any other
//   alg outside RS256, PS256, ES256 is rejected with the same reason.
// - With a `kid`, a key of that kid is required (reason "UnknownKeyId" when the set has none),
//   and it must permit `alg` by type and declared `alg` (reason "AlgorithmMismatch").
// - Without a `kid`, the set must hold exactly one key, so the choice is never ambiguous
//   (reason "InvalidJwt" otherwise).
// - The signature must verify (reason "InvalidSignature").
// `issuer_id` only names the issuer in messages.
Status VerifyJws(const DecodedJwt& jwt, const KeySet& keys, std::string_view issuer_id);

}  // namespace credgate::identity
