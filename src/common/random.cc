#include "common/random.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <vector>

#include "common/encoding.h"

namespace credgate {

void OpenSslRandom::Fill(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

std::string RandomToken(RandomSource& random, size_t bytes) {
  std::vector<uint8_t> buffer(bytes);
  random.Fill(buffer);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(buffer.data()), bytes));
}

}  // namespace credgate
