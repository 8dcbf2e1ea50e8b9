// The caller-token side of a request: the verified-token cache hit that almost every request
// takes, and the signature verification of a cache miss for each algorithm. Also the JWKS lookup
// by kid. Its keys are decoded once, when the JWKS is fetched, which BM_JwksParse measures.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/hash.h"
#include "identity/jwks.h"
#include "identity/jws_verifier.h"
#include "identity/jwt.h"
#include "identity/test_tokens.h"
#include "identity/token_cache.h"

namespace credgate::identity {
namespace {

const testing::TestSigner& Signer() {
  static const testing::TestSigner signer;
  return signer;
}

// Claims shaped like an Entra ID or oidc-provider access token: 807 bytes once signed with
// RS256 and a 2048-bit key.
boost::json::object CallerClaims(int caller) {
  return {{"iss", "http://127.0.0.1:4100"},
          {"sub", "caller-" + std::to_string(caller)},
          {"aud", "api://credgate"},
          {"exp", 1'900'000'000},
          {"iat", 1'800'000'000},
          {"jti", "7f3c9a1e5b2d4c6e7f3c9a1e5b2d4c6e"},
          {"client_id", "caller-alice"},
          {"azp", "caller-alice"},
          {"scope", "api.read"},
          {"oid", "11111111-1111-4111-8111-111111111111"},
          {"tid", "tenant-1"},
          {"groups", boost::json::array{"readers", "writers"}}};
}

void BM_TokenCacheHit(benchmark::State& state) {
  TokenCache cache(10'000);
  const TimePoint now = FromUnixSeconds(1'800'000'000);
  const std::string token = Signer().SignRs256(CallerClaims(1));
  auto identity = std::make_shared<CallerIdentity>();
  identity->expires_at = now + std::chrono::hours(1);
  cache.Insert(token, identity, now);
  for (auto _ : state) benchmark::DoNotOptimize(cache.Find(token, now));
  state.counters["token_bytes"] = static_cast<double>(token.size());
}
BENCHMARK(BM_TokenCacheHit);

// Hits on a cache that contains 10,000 callers' tokens, looked up in a shuffled order as in the
// gateway benchmark's 10k scenario. No lookup repeats the thread's last token, so each one
// hashes the token and reaches the shard's table.
void BM_TokenCacheHitManyCallers(benchmark::State& state) {
  constexpr int kCallers = 10'000;
  TokenCache cache(kCallers);
  const TimePoint now = FromUnixSeconds(1'800'000'000);
  // Tokens of the real size that differ in their last six characters, signed once.
  const std::string signed_token = Signer().SignRs256(CallerClaims(1));
  std::vector<std::string> tokens;
  tokens.reserve(kCallers);
  for (int i = 0; i < kCallers; ++i) {
    std::string token = signed_token;
    const std::string suffix = std::to_string(100'000 + i);
    token.replace(token.size() - suffix.size(), suffix.size(), suffix);
    auto identity = std::make_shared<CallerIdentity>();
    identity->expires_at = now + std::chrono::hours(1);
    cache.Insert(token, identity, now);
    tokens.push_back(std::move(token));
  }
  std::mt19937 shuffle_seed(7);
  std::shuffle(tokens.begin(), tokens.end(), shuffle_seed);
  size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.Find(tokens[next], now));
    next = next + 1 == tokens.size() ? 0 : next + 1;
  }
}
BENCHMARK(BM_TokenCacheHitManyCallers);

// The cache key alone: SHA-256 of the token through the fetched algorithm and a reused context.
void BM_Sha256Token(benchmark::State& state) {
  const std::string token = Signer().SignRs256(CallerClaims(1));
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(token));
}
BENCHMARK(BM_Sha256Token);

// The same digest the way the cache computed it before: EVP_Digest() fetches SHA-256 and
// allocates a context per call.
void BM_Sha256TokenEvpDigest(benchmark::State& state) {
  const std::string token = Signer().SignRs256(CallerClaims(1));
  Sha256Digest digest;
  for (auto _ : state) {
    unsigned int length = 0;
    EVP_Digest(token.data(), token.size(), digest.data(), &length, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(digest);
  }
}
BENCHMARK(BM_Sha256TokenEvpDigest);

// A cache miss: decoding the JWT and verifying its signature with the issuer's decoded key.
void VerifyMiss(benchmark::State& state, const std::string& token) {
  auto keys = ParseJwks(Signer().Jwks());
  if (!keys.ok()) {
    state.SkipWithError("the test JWKS does not parse");
    return;
  }
  for (auto _ : state) {
    auto jwt = DecodeJwt(token);
    benchmark::DoNotOptimize(VerifyJws(*jwt, **keys, "idp"));
  }
}

void BM_VerifyMissRs256(benchmark::State& state) {
  VerifyMiss(state, Signer().SignRs256(CallerClaims(1)));
}
BENCHMARK(BM_VerifyMissRs256)->Threads(1)->Threads(2);

void BM_VerifyMissEs256(benchmark::State& state) {
  VerifyMiss(state, Signer().SignEs256(CallerClaims(1)));
}
BENCHMARK(BM_VerifyMissEs256)->Threads(1)->Threads(2);

// A JWKS of `count` keys alternating between RSA and EC, with distinct kids.
std::string JwksOf(int count) {
  boost::json::array keys;
  for (int i = 0; i < count; ++i) {
    boost::json::object jwk = i % 2 == 0 ? Signer().RsaJwk() : Signer().EcJwk();
    jwk["kid"] = "key-" + std::to_string(i);
    keys.push_back(std::move(jwk));
  }
  return boost::json::serialize(boost::json::object{{"keys", std::move(keys)}});
}

void BM_JwksFindByKid(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  auto keys = ParseJwks(JwksOf(count));
  const std::string kid = "key-" + std::to_string(count - 1);
  for (auto _ : state) benchmark::DoNotOptimize((*keys)->FindByKid(kid));
}
BENCHMARK(BM_JwksFindByKid)->Arg(2)->Arg(8);

// Measures ParseJwks(), which runs once per JWKS fetch and would run per token without the
// decoded KeySet.
void BM_JwksParse(benchmark::State& state) {
  const std::string jwks = JwksOf(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(ParseJwks(jwks));
}
BENCHMARK(BM_JwksParse)->Arg(2)->Arg(8);

}  // namespace
}  // namespace credgate::identity
