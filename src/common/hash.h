// SHA-256 and HMAC-SHA256 through OpenSSL 3's EVP interface.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_st;  // OpenSSL's EVP_MD.

namespace credgate {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
// Hashes `data` with `md`, a fetched digest algorithm, into `out`, which has room for the digest
// (EVP_MAX_MD_SIZE bytes always do), through this thread's reused context. Returns the digest's
// length, or 0 when `md` is null or OpenSSL fails.
size_t DigestInto(const evp_md_st* md, std::string_view data, unsigned char* out);
std::string Sha256String(std::string_view data);  // The 32 digest bytes as a string.
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace credgate
