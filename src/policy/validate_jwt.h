// validate-jwt: checks a JWT taken from a request header, a query parameter or an expression,
// as APIM's policy of that name does. The statement's settings are compiled once into an
// immutable JwtCheck; signing keys given inline are decoded at save, and keys named by
// <openid-config url> are fetched through PolicyServices and cached there, never per request.
//
// Failure reasons, written to context.LastError.Reason (the names that APIM's error handling
// reference lists for validate-jwt): TokenNotPresent, TokenSignatureKeyNotFound,
// TokenSignatureInvalid, TokenExpired, TokenIssuerNotAllowed, TokenAudienceNotAllowed,
// TokenClaimNotFound, TokenClaimValueNotAllowed, and JwtInvalid for every other failure (a token
// that is not a JWS, a JWE that does not decrypt, one not valid yet, or a header without the
// required scheme).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/secret.h"
#include "identity/jwe.h"
#include "identity/openid_config_cache.h"
#include "identity/token_cache.h"
#include "identity/verification_key.h"
#include "policy/context.h"
#include "policy/expression.h"

namespace credgate::policy {

enum class TokenSource { kHeader, kQueryParameter, kValue };

// One <key> of <issuer-signing-keys>: an RSA key from n/e, or a symmetric HMAC key from its
// base64 text.
struct JwtSigningKey {
  std::string id;  // The key's id attribute, matched against the token's `kid` when both exist.
  // Set for n/e keys, certificate-id keys and base64 DER certificates.
  std::shared_ptr<const identity::VerificationKey> public_key;
  Secret symmetric_key;  // Set for base64 symmetric keys.
};

struct RequiredClaim {
  std::string name;
  bool match_any = false;             // match="any"; the default "all" needs every value.
  std::string separator;              // Splits a string claim into several values when not empty.
  std::vector<ValueTemplate> values;  // Empty: the claim only has to be present.
};

struct JwtCheck {
  TokenSource source = TokenSource::kHeader;
  std::string header_name;                   // With kHeader.
  std::string query_parameter_name;          // With kQueryParameter.
  std::optional<ValueTemplate> token_value;  // With kValue.

  int failed_status = 401;
  std::optional<ValueTemplate> failed_message;  // Replaces the detailed message when set.
  bool require_expiration_time = true;
  bool require_signed_tokens = true;
  std::string require_scheme;  // For example "Bearer"; empty accepts any scheme or none.
  std::chrono::seconds clock_skew{0};
  std::string output_token_variable_name;

  std::vector<std::string> openid_config_urls;
  std::vector<JwtSigningKey> signing_keys;
  // <decryption-keys>: a compact JWE is decrypted with these, and its plaintext checked as the
  // token. Empty: a JWE is rejected.
  std::vector<std::shared_ptr<const identity::JweKey>> decryption_keys;
  std::vector<ValueTemplate> audiences;  // Empty: `aud` is not checked.
  std::vector<ValueTemplate> issuers;    // With the openid-config issuers; both empty: unchecked.
  std::vector<RequiredClaim> required_claims;

  // Tokens whose signature verified with these keys, by SHA-256 of the token, until their
  // `exp`. Claims are checked again on every request. Thread-safe.
  std::shared_ptr<identity::TokenCache> verified;
};

struct JwtCheckFailure {
  std::string reason;   // One of the reasons listed above.
  std::string message;  // Names the problem, never the token.
};

// Totals since start, for metrics.
struct JwtCheckCounters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> cache_hits{0};
};
JwtCheckCounters& ValidateJwtCounters();

// Returns the token that `check` reads from the request, or a TokenNotPresent /
// TokenSchemeNotAllowed failure. An expression failure is returned as an Error.
Result<std::optional<std::string>> ExtractToken(const JwtCheck& check, const PolicyContext& context,
                                                JwtCheckFailure* failure);

// The outcome of CheckToken: nullopt on success, else the failure. `unknown_kid` is set when the
// token's `kid` matched no loaded key, so that a caller with openid-config may refetch keys.
struct JwtCheckResult {
  std::optional<JwtCheckFailure> failure;
  bool unknown_kid = false;
  std::optional<Error> expression_error;  // An audience, issuer or claim value failed to evaluate.
  std::shared_ptr<const identity::CallerIdentity> token;  // The verified token on success.
};

// Checks `token` against `check` with the configurations of its openid-config URLs (entries may
// be null when not loaded). Never throws, and does no I/O.
JwtCheckResult CheckToken(
    const JwtCheck& check, std::string_view token,
    std::span<const std::shared_ptr<const identity::OpenIdConfiguration>> configs,
    const PolicyContext& context, TimePoint now);

}  // namespace credgate::policy
