// SHA-256 and HMAC-SHA256 through OpenSSL 3's EVP interface.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace credgate {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
std::string Sha256String(std::string_view data);  // The 32 digest bytes as a string.
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace credgate
