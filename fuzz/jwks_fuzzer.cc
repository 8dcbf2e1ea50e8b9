// Fuzzes JWKS parsing, which imports RSA and EC keys from JWK members. Each key set that parses
// then verifies fixed tokens of every accepted algorithm, so that odd keys (a tiny modulus, a
// point off the curve) also reach OpenSSL's verification.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"
#include "identity/jwks.h"
#include "identity/jws_verifier.h"
#include "identity/jwt.h"

namespace {

using namespace credgate;
using namespace credgate::identity;

// Tokens without a kid, which select the only key of a one-key set, and tokens whose kid names
// the kid of the seeds' keys.
std::vector<DecodedJwt> MakeTokens() {
  std::vector<DecodedJwt> tokens;
  const std::string payload = Base64UrlEncode(R"({"iss":"https://issuer.example"})");
  const std::string signature = Base64UrlEncode(std::string(64, '\x01'));
  for (std::string_view header : {R"({"alg":"RS256"})", R"({"alg":"PS256"})", R"({"alg":"ES256"})",
                                  R"({"alg":"RS256","kid":"rsa-1"})",
                                  R"({"alg":"ES256","kid":"ec-1"})"}) {
    Result<DecodedJwt> jwt =
        DecodeJwt(Base64UrlEncode(header) + "." + payload + "." + signature);
    if (!jwt.ok()) __builtin_trap();
    tokens.push_back(std::move(jwt).value());
  }
  return tokens;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<DecodedJwt> tokens = MakeTokens();
  const std::string_view json(reinterpret_cast<const char*>(data), size);

  Result<std::shared_ptr<const KeySet>> keys = ParseJwks(json);
  if (!keys.ok()) return 0;
  if ((*keys)->keys().empty()) __builtin_trap();  // ParseJwks promises a usable key.
  if ((*keys)->keys().size() > kMaxJwksKeys) __builtin_trap();
  for (const DecodedJwt& token : tokens) (void)VerifyJws(token, **keys, "fuzz");
  return 0;
}
