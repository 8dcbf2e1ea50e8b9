// Decoding of a compact JWS (RFC 7515 §7.1) into its header, payload and signature. Decoding
// checks structure only: it verifies no signature and no claim, so a DecodedJwt is untrusted
// input until jws_verifier.h and claims.h accept it.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace credgate::identity {

// Limits applied before and during JSON parsing, because the token arrives from an
// unauthenticated caller. Entra ID access tokens with many group claims stay under 8 KiB.
inline constexpr size_t kMaxTokenBytes = 16 * 1024;
inline constexpr size_t kMaxJsonDepth = 16;

struct DecodedJwt {
  boost::json::object header;
  boost::json::object payload;
  std::string alg;            // The header's `alg`, which is required.
  std::string kid;            // The header's `kid`, or "" when absent.
  std::string signing_input;  // ASCII(BASE64URL(header) || '.' || BASE64URL(payload)).
  std::string signature;      // The decoded signature bytes.
};

// Decodes `token`. Errors (kUnauthenticated, reason "InvalidJwt"): a token over kMaxTokenBytes,
// not three dot-separated parts (a five-part JWE is named as such), a part that is not unpadded
// base64url, a header or payload that is not a JSON object within kMaxJsonDepth, a missing or
// non-string `alg`, a non-string `kid`, or a `crit` header (RFC 7515 §4.1.11: no extension is
// understood, so every critical one must be rejected). The headers `jku`, `x5u`, `jwk` and `x5c`
// are kept in `header` but never used, because keys come only from the issuer's configured JWKS.
Result<DecodedJwt> DecodeJwt(std::string_view token);

}  // namespace credgate::identity
