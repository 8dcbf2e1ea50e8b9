// Decryption of a compact JWE (RFC 7516 §7.1), as validate-jwt's <decryption-keys> needs it: the
// plaintext is the inner JWS, which the caller then verifies like any other token.
//
// Key management (RFC 7518 §4): "dir" and AES key wrap ("A128KW", "A192KW", "A256KW") with a
// symmetric key, "RSA-OAEP" (SHA-1) and "RSA-OAEP-256" with an RSA private key. Content
// encryption (RFC 7518 §5): "A128GCM", "A192GCM", "A256GCM", "A128CBC-HS256", "A192CBC-HS384"
// and "A256CBC-HS512". Everything runs on OpenSSL 3's EVP interface.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "identity/verification_key.h"

namespace credgate::identity {

// One decryption key. Immutable after construction, so shared between threads.
struct JweKey {
  std::string id;          // Matched against the JWE's `kid` when both are set.
  Secret symmetric_key;    // For dir and AxxxKW; empty for an RSA key.
  EvpPkeyPtr private_key;  // For RSA-OAEP and RSA-OAEP-256; null for a symmetric key.
};

// Returns true when `token` has the five dot-separated parts of a compact JWE.
bool IsCompactJwe(std::string_view token);

// Decrypts `token` with the first key in `keys` that fits its `alg` and `kid`, and returns the
// plaintext. Errors (kUnauthenticated, reason "InvalidJwe") name the fault without key material.
// They are: a token over kMaxTokenBytes or not five base64url parts, a header that is not a JSON
// object, a `zip` or `crit` header (compression and extensions are not supported), an
// unsupported `alg` or `enc`, no key that fits, and a failed decryption or authentication tag.
// A failed RSA or key unwrap step gets the same message as a bad tag. A failed RSA step also
// goes on with a random CEK (RFC 7516 §11.5), so neither the message nor the time taken shows
// whether the padding was valid.
Result<Secret> DecryptJwe(std::string_view token,
                          const std::vector<std::shared_ptr<const JweKey>>& keys);

}  // namespace credgate::identity
