#include "credentials/retry_backoff.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace credgate::credentials {

double RandomFraction(RandomSource& random) {
  std::array<uint8_t, 8> bytes{};
  random.Fill(bytes);
  uint64_t bits = 0;
  for (uint8_t byte : bytes) bits = (bits << 8) | byte;
  return static_cast<double>(bits >> 11) / static_cast<double>(uint64_t{1} << 53);
}

float RandomFloatFraction(RandomSource& random) {
  // A double just below 1 rounds to 1.0f.
  return std::min(static_cast<float>(RandomFraction(random)), std::nextafter(1.0f, 0.0f));
}

std::chrono::milliseconds RetryDelay(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                     int attempt, RandomSource& random) {
  std::chrono::milliseconds delay = std::min(base, cap);
  for (int i = 1; i < attempt && delay < cap; ++i) delay = std::min(delay * 2, cap);
  const double fraction = 0.5 + 0.5 * RandomFraction(random);
  return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(delay.count()) * fraction));
}

}  // namespace credgate::credentials
