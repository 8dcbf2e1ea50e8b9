#include "crypto/admin_key.h"

#include <openssl/crypto.h>

#include "common/encoding.h"
#include "common/hash.h"

namespace credgate::crypto {

namespace {

// Unpadded base64url of 32 bytes.
constexpr size_t kEncodedRandomSize = 43;

bool IsBase64UrlCharacter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

Secret GenerateAdminKey(RandomSource& random) {
  return Secret(std::string(kAdminKeyPrefix) + RandomToken(random, kAdminKeyRandomBytes));
}

bool IsWellFormedAdminKey(std::string_view key) {
  std::string_view prefix = kAdminKeyPrefix;
  if (key.size() != prefix.size() + kEncodedRandomSize || !key.starts_with(prefix)) return false;
  for (char c : key.substr(prefix.size())) {
    if (!IsBase64UrlCharacter(c)) return false;
  }
  return true;
}

std::string HashAdminKey(const Secret& key) { return HexEncode(Sha256String(key.Expose())); }

bool VerifyAdminKey(const Secret& presented, std::string_view stored_hash) {
  std::string hash = HashAdminKey(presented);
  return hash.size() == stored_hash.size() &&
         CRYPTO_memcmp(hash.data(), stored_hash.data(), hash.size()) == 0;
}

}  // namespace credgate::crypto
