// Reasons carried in Error::reason by the identity module, so that callers (the gateway policy,
// metrics) tell a rejected caller apart from keys that are not loaded yet. Messages never contain
// the token.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace credgate::identity {

// kUnauthenticated: the token is malformed or failed a check without a more specific reason.
inline constexpr std::string_view kReasonInvalidJwt = "InvalidJwt";
// kUnauthenticated: `alg` is none, symmetric, unsupported, or not allowed for the chosen key.
inline constexpr std::string_view kReasonUnsupportedAlgorithm = "UnsupportedAlgorithm";
inline constexpr std::string_view kReasonAlgorithmMismatch = "AlgorithmMismatch";
// kUnauthenticated: the signature does not verify with the selected key.
inline constexpr std::string_view kReasonInvalidSignature = "InvalidSignature";
// kUnauthenticated: `exp` has passed, or `nbf` / `iat` lies in the future.
inline constexpr std::string_view kReasonTokenExpired = "TokenExpired";
inline constexpr std::string_view kReasonTokenNotYetValid = "TokenNotYetValid";
// kUnauthenticated: `aud` contains none of the issuer's accepted audiences.
inline constexpr std::string_view kReasonInvalidAudience = "InvalidAudience";
// kUnauthenticated: `iss` names no trusted issuer, or one the caller did not allow.
inline constexpr std::string_view kReasonUntrustedIssuer = "UntrustedIssuer";
// kUnauthenticated: the loaded JWKS has no key with the token's `kid`.
inline constexpr std::string_view kReasonUnknownKeyId = "UnknownKeyId";
// kUnavailable: the issuer's JWKS has not been fetched yet. Only ValidateCached returns it.
inline constexpr std::string_view kReasonKeysNotLoaded = "KeysNotLoaded";
// kUnavailable: the discovery document or the JWKS could not be fetched or parsed.
inline constexpr std::string_view kReasonKeyFetchFailed = "KeyFetchFailed";

// Builds a kUnauthenticated error with `reason` (kReasonInvalidJwt by default).
inline Error JwtError(std::string message, std::string_view reason = kReasonInvalidJwt) {
  return MakeError(ErrorCode::kUnauthenticated, std::move(message), std::string(reason));
}

}  // namespace credgate::identity
