// Deterministic RandomSource implementations for tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>

#include "common/random.h"

namespace credgate::credentials::testing {

// Fills every byte with the same value: 0x00 gives the random fraction 0 and 0xFF a fraction
// just below 1 (RandomFraction in retry_backoff.h).
class FixedRandom final : public RandomSource {
 public:
  explicit FixedRandom(uint8_t byte) : byte_(byte) {}
  void Fill(std::span<uint8_t> out) override { std::memset(out.data(), byte_, out.size()); }

 private:
  uint8_t byte_;
};

// A seeded pseudo-random sequence, the same on every run.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  void Fill(std::span<uint8_t> out) override {
    for (uint8_t& byte : out) byte = static_cast<uint8_t>(engine_());
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace credgate::credentials::testing
