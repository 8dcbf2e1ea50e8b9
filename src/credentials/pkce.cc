#include "credentials/pkce.h"

#include "common/encoding.h"
#include "common/hash.h"

namespace credgate::credentials {

Secret GenerateCodeVerifier(RandomSource& random) { return Secret(RandomToken(random, 32)); }

std::string ComputeS256Challenge(std::string_view code_verifier) {
  return Base64UrlEncode(Sha256String(code_verifier));
}

PkcePair GeneratePkcePair(RandomSource& random) {
  PkcePair pair;
  pair.code_verifier = GenerateCodeVerifier(random);
  pair.code_challenge = ComputeS256Challenge(pair.code_verifier.Expose());
  return pair;
}

bool IsValidCodeVerifier(std::string_view code_verifier) {
  if (code_verifier.size() < 43 || code_verifier.size() > 128) return false;
  for (char c : code_verifier) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (!unreserved) return false;
  }
  return true;
}

}  // namespace credgate::credentials
