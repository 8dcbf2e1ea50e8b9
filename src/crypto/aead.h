// The sealed format: how credgate stores a secret (tokens, client secrets) at rest. Each record
// gets its own random data key, which encrypts the plaintext with AES-256-GCM; the master key
// encrypts (wraps) the data key. Rotating a master key therefore rewrites only the wrapped data
// key of each record (Rewrap), never the payload.
//
// Version 1 layout, all integers unsigned bytes:
//
//   offset  size  field
//   0       1     version (1)
//   1       1     key id length n (1..64)
//   2       n     master key id (ASCII, see IsValidKeyId)
//   2+n     12    wrap nonce
//   14+n    48    wrapped data key: AES-256-GCM(master key, data key) || tag
//   62+n    12    payload nonce
//   74+n    m     payload ciphertext (same length as the plaintext)
//   74+n+m  16    payload tag
//
// The wrap authenticates the version and key id, so a changed key id fails to open. The payload
// authenticates the version and the caller's associated data, which should name the record (for
// example its store key): a blob copied onto another record then fails to open. Both nonces are
// 96 random bits, and each data key encrypts exactly one payload.
//
// All functions are thread-safe when the RandomSource passed in is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"

namespace credgate::crypto {

inline constexpr uint8_t kSealedFormatVersion = 1;
inline constexpr size_t kMaxKeyIdLength = 64;

// A 32-byte AES-256 master key and the id that sealed blobs name it by.
struct MasterKey {
  std::string id;
  Secret key;
};

// Returns true for 1..64 characters of [A-Za-z0-9._-].
bool IsValidKeyId(std::string_view id);

// Checks the id (IsValidKeyId) and the key length (32 bytes). Fails with kInvalidArgument naming
// the id; the message never contains key bytes.
Status ValidateMasterKey(const MasterKey& key);

// Returns the number of bytes a sealed blob adds to a plaintext under a key id of `key_id_size`.
constexpr size_t SealedOverhead(size_t key_id_size) { return 2 + key_id_size + 12 + 48 + 12 + 16; }

// Seals `plaintext` under `key`, binding it to `aad`. Fails only on an invalid key
// (kInvalidArgument) or an OpenSSL failure (kInternal).
Result<std::string> Seal(const MasterKey& key, const Secret& plaintext, std::string_view aad,
                         RandomSource& random);

// Opens a blob made by Seal. Fails with kInvalidArgument on a truncated or malformed blob, an
// unsupported version, or failed authentication (wrong `aad`, wrong key bytes, modified blob),
// and with kFailedPrecondition when the blob names a key id other than `key.id`.
Result<Secret> Open(const MasterKey& key, std::string_view blob, std::string_view aad);

// Returns the master key id a blob names, or kInvalidArgument when the header is malformed.
Result<std::string> SealedKeyId(std::string_view blob);

// Rewraps the data key of `blob` from `from` to `to`, keeping the payload bytes unchanged, so the
// result opens with `to` and the same associated data. Fails as Open does when `from` cannot
// unwrap the data key.
Result<std::string> Rewrap(std::string_view blob, const MasterKey& from, const MasterKey& to,
                           RandomSource& random);

// Base64 (RFC 4648 §4, padded) of a sealed blob, for text columns, JSON and configuration.
std::string SealedToBase64(std::string_view blob);
// Decodes SealedToBase64 output. Fails with kInvalidArgument on invalid base64; it does not check
// the blob itself, which Open does.
Result<std::string> SealedFromBase64(std::string_view text);

}  // namespace credgate::crypto
