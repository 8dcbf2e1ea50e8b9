// Randomness behind an interface. OpenSslRandom draws from OpenSSL's CSPRNG (RAND_bytes) and is
// the only source used outside tests; tests inject a seeded source to get repeatable PKCE
// verifiers and states.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace credgate {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with random bytes. Aborts the process if the CSPRNG fails, because continuing
  // with predictable states or keys would be worse than stopping.
  virtual void Fill(std::span<uint8_t> out) = 0;
};

class OpenSslRandom final : public RandomSource {
 public:
  void Fill(std::span<uint8_t> out) override;
};

// Returns `bytes` random bytes encoded as unpadded base64url (RFC 4648 §5).
std::string RandomToken(RandomSource& random, size_t bytes);

}  // namespace credgate
