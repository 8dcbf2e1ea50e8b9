// Fuzzes the validation of callers' JWTs without network: compact JWS decoding, the choice of
// the trusted issuer, the registered-claim checks and signature verification by JwtValidator,
// and CheckClaims on every decoded payload, whatever its issuer.
//
// The keys are fixed so that every run behaves the same. kJwks contains the public halves of an
// RSA and an EC P-256 key pair that signed the seeds in fuzz/corpus/jwt (the private halves were
// discarded after signing), so those seeds pass the signature check and reach the token cache.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/encoding.h"
#include "http/client.h"
#include "identity/claims.h"
#include "identity/jwt.h"
#include "identity/trusted_issuer.h"
#include "identity/validator.h"

namespace {

using namespace credgate;
using namespace credgate::identity;

constexpr int64_t kNow = 1'800'000'000;  // The seeds' tokens expire an hour later.
constexpr std::string_view kIssuer = "https://login.example/tenant/v2.0";

// clang-format off
const std::string kJwks = std::string(R"({"keys":[{"kty":"RSA","use":"sig","kid":"rsa-1","n":")")
    + std::string(
    "tAH_93Kvl3H4ikaMNHLnUsvJKGqCqrDak4yAygKL5qEDmhdaoIOgM9Z2b3mqzgN3Y73gXOwML0aqcNZf5WvmkA87"
    "G3eJwFeEbT3LvHq3gRG24UZ_9A4vrxKJfPcaNdRCpfPWcv0jBQWOxN8F-NwNKuREp8tqnkGIeCQ2IxWnw1ilxAm4"
    "lk1ou3vKV7ohxpnfB1fplbAnGdDk8KlnOqJJJA6g8qh3m6bYam9W9iaEiQaC_bXivfv7iRJB_Dkd0vrCSsZGBu5X"
    "H-7FgfyILhXKn1Ktzn1Nro9MuC1rlkv7kf7pBBYdaDVg-hIswpeyaCTU_dadgg0bzLYz7cX9GYSiGQ")
    + R"(","e":"AQAB"},{"kty":"EC","use":"sig","alg":"ES256","kid":"ec-1","crv":"P-256",)"
    + R"("x":"pFzWFhdvKsfSqvXjsQrGB68GgO-lUgURNm6zEDbY8RI",)"
    + R"("y":"lX0330GDLt96mwfQ0vC4DFkZYsjPWaQrfwwd8KyQ4d8"}]})";
// clang-format on

// Returns kJwks for every request, so the validator loads its keys without network.
class JwksClient final : public http::HttpClient {
 public:
  boost::asio::awaitable<Result<http::ClientResponse>> Send(http::ClientRequest) override {
    co_return http::ClientResponse{200, {}, kJwks};
  }
};

TrustedIssuer MakeIssuer() {
  TrustedIssuer issuer;
  issuer.id = "entra";
  issuer.issuer = std::string(kIssuer);
  issuer.audiences = {"api://credgate", "credgate-client"};
  issuer.jwks_uri = "https://login.example/tenant/keys";
  return issuer;
}

// Returns a validator whose issuer's keys are loaded: a Validate() call with a token that passes
// the claim checks makes it fetch kJwks once.
std::unique_ptr<JwtValidator> MakeValidator() {
  auto clock = std::make_shared<FakeClock>(FromUnixSeconds(kNow));
  JwtValidatorOptions options;
  // A small cache, so that the state carried from one input to the next stays small.
  options.cache_max_entries = 64;
  auto validator = std::make_unique<JwtValidator>(std::make_shared<JwksClient>(), clock, options);
  if (!validator->SetTrustedIssuers({MakeIssuer()}).ok()) __builtin_trap();

  const std::string payload = R"({"iss":")" + std::string(kIssuer) +
                              R"(","aud":"api://credgate","oid":"o","exp":)" +
                              std::to_string(kNow + 3600) + "}";
  const std::string token = Base64UrlEncode(R"({"alg":"RS256","kid":"rsa-1"})") + "." +
                            Base64UrlEncode(payload) + "." + Base64UrlEncode("signature");
  boost::asio::io_context io;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> { (void)co_await validator->Validate(token); },
      boost::asio::detached);
  io.run();
  if (validator->counters().key_fetches != 1) __builtin_trap();
  if (validator->counters().key_fetch_failures != 0) __builtin_trap();
  return validator;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<JwtValidator> validator = MakeValidator();
  static const TrustedIssuer issuer = MakeIssuer();
  const std::string_view token(reinterpret_cast<const char*>(data), size);

  (void)validator->ValidateCached(token);

  Result<DecodedJwt> jwt = DecodeJwt(token);
  if (jwt.ok()) (void)CheckClaims(jwt->payload, issuer, FromUnixSeconds(kNow));
  return 0;
}
