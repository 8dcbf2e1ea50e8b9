// Admin API keys: random bearer tokens for the management API, shown to the operator once and
// stored only as their SHA-256 digest.
//
// A plain hash is enough, and a slow password KDF (bcrypt, scrypt, Argon2) would add nothing:
// a key carries 256 random bits, so a stolen digest cannot be reversed by guessing, and a fast
// hash keeps every management request cheap. Slow KDFs exist for low-entropy passwords.
//
// Looking a key up by its digest (an index or a map) leaks at most timing about the digest,
// which says nothing usable about the key. VerifyAdminKey compares in constant time for callers
// that hold one stored digest. All functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/random.h"
#include "common/secret.h"

namespace credgate::crypto {

inline constexpr char kAdminKeyPrefix[] = "cgk_";
inline constexpr size_t kAdminKeyRandomBytes = 32;

// Returns a new key: kAdminKeyPrefix followed by 32 random bytes as unpadded base64url, 47
// characters in all.
Secret GenerateAdminKey(RandomSource& random);

// Returns true when `key` has the shape GenerateAdminKey produces. Checking it first lets a
// caller reject a malformed header without hashing.
bool IsWellFormedAdminKey(std::string_view key);

// Returns the lowercase hex SHA-256 of the whole key text, prefix included (64 characters).
std::string HashAdminKey(const Secret& key);

// Returns true when `presented` hashes to `stored_hash` (HashAdminKey output), comparing the
// digests in constant time.
bool VerifyAdminKey(const Secret& presented, std::string_view stored_hash);

}  // namespace credgate::crypto
