#include "common/request_id.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "common/random.h"

namespace credgate {
namespace {

constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The finaliser of SplitMix64: a bijection on 64-bit values that spreads the bits of a counter,
// so consecutive ids do not share a visible suffix.
uint64_t Mix(uint64_t value) {
  value ^= value >> 30;
  value *= 0xbf58476d1ce4e5b9ULL;
  value ^= value >> 27;
  value *= 0x94d049bb133111ebULL;
  value ^= value >> 31;
  return value;
}

struct Generator {
  Generator() {
    std::array<uint8_t, 12> seed;
    OpenSslRandom().Fill(seed);
    std::memcpy(&prefix, seed.data(), sizeof(prefix));
    std::memcpy(&counter, seed.data() + sizeof(prefix), sizeof(counter));
  }

  uint32_t prefix = 0;
  uint64_t counter = 0;
};

}  // namespace

std::string NewRequestId() {
  thread_local Generator generator;
  std::array<uint8_t, 12> bytes;
  const uint64_t mixed = Mix(generator.counter++);
  std::memcpy(bytes.data(), &generator.prefix, sizeof(generator.prefix));
  std::memcpy(bytes.data() + sizeof(generator.prefix), &mixed, sizeof(mixed));

  // 12 bytes are four 3-byte groups, so the base64url text has no padding.
  std::string id(16, '\0');
  for (size_t group = 0; group < 4; ++group) {
    const uint32_t bits = (uint32_t{bytes[group * 3]} << 16) |
                          (uint32_t{bytes[group * 3 + 1]} << 8) | bytes[group * 3 + 2];
    for (size_t i = 0; i < 4; ++i) {
      id[group * 4 + i] = kBase64UrlAlphabet[(bits >> (18 - 6 * i)) & 0x3f];
    }
  }
  return id;
}

}  // namespace credgate
