// Proof Key for Code Exchange (RFC 7636): the code verifier a client keeps and the S256 code
// challenge it sends with the authorization request.
#pragma once

#include <string>
#include <string_view>

#include "common/random.h"
#include "common/secret.h"

namespace credgate::credentials {

struct PkcePair {
  Secret code_verifier;        // Sent only to the token endpoint.
  std::string code_challenge;  // BASE64URL(SHA256(verifier)), sent in the authorization URL.
};

// Generates a verifier from 32 random bytes, base64url-encoded to 43 characters, which is the
// construction RFC 7636 §4.1 recommends.
Secret GenerateCodeVerifier(RandomSource& random);

// Computes the S256 challenge of `code_verifier` (RFC 7636 §4.2).
std::string ComputeS256Challenge(std::string_view code_verifier);

// Generates a verifier and its S256 challenge.
PkcePair GeneratePkcePair(RandomSource& random);

// Returns true when `code_verifier` has 43 to 128 characters from [A-Za-z0-9-._~]
// (RFC 7636 §4.1).
bool IsValidCodeVerifier(std::string_view code_verifier);

}  // namespace credgate::credentials
