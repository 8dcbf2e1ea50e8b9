// The compiler of <validate-jwt>. Internal to the policy module.
#pragma once

#include <string>

#include "common/result.h"
#include "policy/compile_support.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

// Compiles <validate-jwt> into a ValidateJwtSpec. Errors name the attribute or child and its
// position: an unknown attribute or child, not exactly one of header-name, query-parameter-name
// and token-value, an invalid number or Boolean, an openid-config url that is an expression or
// not https (http only on loopback), a <key> whose certificate-id is not a stored certificate or
// whose certificate has an unsupported key, an invalid n/e or base64, a symmetric key shorter
// than 32 bytes, a <decryption-keys> without keys or with a key that is neither a 16 to 64-byte
// base64 key nor a certificate with an RSA private key, and a statement without signing keys that
// requires signed tokens.
Result<Statement> CompileValidateJwt(const ElementReader& element, const std::string& path);

}  // namespace credgate::policy::internal
