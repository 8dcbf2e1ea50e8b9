// Each thread verifies through contexts it initialized once per key and algorithm and then
// reuses. These cases check that reuse never changes a result. They cover a verification after a
// rejected signature, two algorithms on one key, more keys than a thread keeps contexts for, a
// new key decoded after an old one was destroyed, and several threads on the same keys.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "identity/jwt.h"
#include "identity/verification_key.h"
#include "test_tokens.h"

namespace credgate::identity {
namespace {

using testing::TestSigner;

// A signed token, split into what VerificationKey::Verify takes.
struct Signed {
  JwsAlgorithm algorithm;
  std::string signing_input;
  std::string signature;
};

Signed Split(const std::string& token) {
  auto jwt = DecodeJwt(token);
  if (!jwt.ok()) throw std::runtime_error(jwt.error().message);
  return {ParseJwsAlgorithm(jwt->alg).value(), jwt->signing_input, jwt->signature};
}

boost::json::object Claims(int n) { return {{"sub", "caller-" + std::to_string(n)}}; }

std::shared_ptr<const VerificationKey> KeyOf(const boost::json::object& jwk) {
  auto key = VerificationKey::FromJwk(jwk);
  if (!key.ok()) throw std::runtime_error(key.error().message);
  return *key;
}

bool Verifies(const VerificationKey& key, const Signed& token) {
  return key.Verify(token.algorithm, token.signing_input, token.signature).ok();
}

const TestSigner& Signer() {
  static const TestSigner signer;
  return signer;
}

TEST(VerificationContextTest, VerifiesAfterRejectedSignature) {
  auto key = KeyOf(Signer().RsaJwk());
  const Signed good = Split(Signer().SignRs256(Claims(1)));
  Signed tampered = good;
  tampered.signing_input += "x";
  Signed short_signature = good;
  short_signature.signature.resize(10);

  EXPECT_TRUE(Verifies(*key, good));
  EXPECT_FALSE(Verifies(*key, tampered));
  EXPECT_TRUE(Verifies(*key, good));
  EXPECT_FALSE(Verifies(*key, short_signature));
  EXPECT_TRUE(Verifies(*key, good));
}

TEST(VerificationContextTest, KeepsPaddingPerAlgorithm) {
  // The RSA JWK declares no alg, so the key verifies both RS256 and PS256.
  auto key = KeyOf(Signer().RsaJwk());
  const Signed pkcs1 = Split(Signer().SignRs256(Claims(1)));
  const Signed pss = Split(Signer().SignPs256(Claims(1)));
  Signed pkcs1_as_pss = pkcs1;
  pkcs1_as_pss.algorithm = JwsAlgorithm::kPs256;
  Signed pss_as_pkcs1 = pss;
  pss_as_pkcs1.algorithm = JwsAlgorithm::kRs256;

  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(Verifies(*key, pkcs1)) << "round " << round;
    EXPECT_TRUE(Verifies(*key, pss)) << "round " << round;
    EXPECT_FALSE(Verifies(*key, pkcs1_as_pss)) << "round " << round;
    EXPECT_FALSE(Verifies(*key, pss_as_pkcs1)) << "round " << round;
  }
}

TEST(VerificationContextTest, VerifiesWithMoreKeysThanSlots) {
  // A thread keeps contexts for 8 (key, algorithm) pairs, so 10 keys make it replace them in
  // turn.
  constexpr int kKeys = 10;
  std::vector<std::unique_ptr<TestSigner>> signers;
  std::vector<std::shared_ptr<const VerificationKey>> keys;
  std::vector<Signed> tokens;
  for (int i = 0; i < kKeys; ++i) {
    signers.push_back(std::make_unique<TestSigner>("rsa", "ec-" + std::to_string(i)));
    keys.push_back(KeyOf(signers.back()->EcJwk()));
    tokens.push_back(Split(signers.back()->SignEs256(Claims(i))));
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      EXPECT_TRUE(Verifies(*keys[i], tokens[i])) << "key " << i << ", round " << round;
      EXPECT_FALSE(Verifies(*keys[i], tokens[(i + 1) % kKeys]))
          << "key " << i << " with the token of key " << (i + 1) % kKeys;
    }
  }
}

TEST(VerificationContextTest, NewKeyIgnoresDestroyedKeysContext) {
  const TestSigner first("rsa", "ec");
  const TestSigner second("rsa", "ec");
  const Signed first_token = Split(first.SignEs256(Claims(1)));
  const Signed second_token = Split(second.SignEs256(Claims(1)));

  auto old_key = KeyOf(first.EcJwk());
  ASSERT_TRUE(Verifies(*old_key, first_token));
  old_key.reset();
  // Same kid and size, so the allocator may give the new key the old one's memory.
  auto new_key = KeyOf(second.EcJwk());
  EXPECT_TRUE(Verifies(*new_key, second_token));
  EXPECT_FALSE(Verifies(*new_key, first_token));
}

TEST(VerificationContextTest, VerifiesConcurrentlyOnSharedKeys) {
  auto rsa = KeyOf(Signer().RsaJwk());
  auto ec = KeyOf(Signer().EcJwk());
  const Signed rs256 = Split(Signer().SignRs256(Claims(1)));
  const Signed es256 = Split(Signer().SignEs256(Claims(2)));
  Signed tampered = rs256;
  tampered.signing_input += "x";

  std::atomic<int> wrong_answers{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!Verifies(*rsa, rs256)) ++wrong_answers;
        if (!Verifies(*ec, es256)) ++wrong_answers;
        if (Verifies(*rsa, tampered)) ++wrong_answers;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong_answers.load(), 0);
}

}  // namespace
}  // namespace credgate::identity
