// AES-256-GCM (NIST SP 800-38D) through OpenSSL 3's EVP interface: the one symmetric primitive of
// credgate. Callers normally use the sealed format in aead.h, which picks nonces and keys; these
// functions are the building block beneath it. All functions are thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::crypto {

inline constexpr size_t kAesKeySize = 32;    // AES-256.
inline constexpr size_t kGcmNonceSize = 12;  // 96 bits, the size GCM handles without GHASH.
inline constexpr size_t kGcmTagSize = 16;    // 128-bit authentication tag.

// Encrypts `plaintext` and authenticates it together with `aad`. Returns ciphertext || tag.
// A (key, nonce) pair must never be used twice. Fails with kInvalidArgument on a wrong key or
// nonce size and kInternal if OpenSSL fails.
Result<std::string> AesGcmEncrypt(std::string_view key, std::string_view nonce,
                                  std::string_view plaintext, std::string_view aad);

// Decrypts ciphertext || tag. Fails with kInvalidArgument when the input is shorter than a tag or
// when authentication fails, which happens on a wrong key, a wrong `aad` or any modified byte.
Result<Secret> AesGcmDecrypt(std::string_view key, std::string_view nonce,
                             std::string_view ciphertext_and_tag, std::string_view aad);

}  // namespace credgate::crypto
