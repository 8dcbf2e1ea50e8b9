#include "identity/jwe.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include <cctype>

#include "common/encoding.h"
#include "jwe_fixtures.h"

namespace credgate::identity {
namespace {

using testing::JweFixture;
using testing::kJweFixtures;

EvpPkeyPtr FixturePrivateKey() {
  BIO* bio = BIO_new_mem_buf(testing::kJweCertificatePem.data(),
                             static_cast<int>(testing::kJweCertificatePem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return EvpPkeyPtr(key);
}

std::shared_ptr<const JweKey> KeyFor(const JweFixture& fixture) {
  auto key = std::make_shared<JweKey>();
  if (fixture.key_base64.empty()) {
    key->private_key = FixturePrivateKey();
  } else {
    key->symmetric_key = Secret(Base64Decode(fixture.key_base64).value());
  }
  return key;
}

// Replaces the protected header of `token` with `header_json`.
std::string WithHeader(std::string_view token, std::string_view header_json) {
  return Base64UrlEncode(header_json) + std::string(token.substr(token.find('.')));
}

class JoseFixtureTest : public ::testing::TestWithParam<JweFixture> {};

TEST_P(JoseFixtureTest, Decrypts) {
  const JweFixture& fixture = GetParam();
  ASSERT_TRUE(IsCompactJwe(fixture.token));
  auto plaintext = DecryptJwe(fixture.token, {KeyFor(fixture)});
  ASSERT_TRUE(plaintext.ok()) << plaintext.error().message;
  EXPECT_TRUE(plaintext->Equals(testing::kJweInnerToken));
}

TEST_P(JoseFixtureTest, TamperedTagRejected) {
  const JweFixture& fixture = GetParam();
  std::string token(fixture.token);
  char& last = token[token.size() - 2];
  last = last == 'A' ? 'B' : 'A';
  auto plaintext = DecryptJwe(token, {KeyFor(fixture)});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.error().reason, "InvalidJwe");
  EXPECT_EQ(plaintext.error().message, "the JWE could not be decrypted with the configured keys");
}

TEST_P(JoseFixtureTest, TamperedCiphertextRejected) {
  const JweFixture& fixture = GetParam();
  std::string token(fixture.token);
  size_t ciphertext = token.rfind('.', token.rfind('.') - 1) + 1;
  token[ciphertext] = token[ciphertext] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(DecryptJwe(token, {KeyFor(fixture)}).ok());
}

TEST_P(JoseFixtureTest, TamperedHeaderRejected) {
  const JweFixture& fixture = GetParam();
  // The same header with a member added still parses, but it is the AAD, so the tag fails.
  std::string header = "{\"alg\":\"" + std::string(fixture.alg) + "\",\"enc\":\"" +
                       std::string(fixture.enc) + "\",\"cty\":\"JWT\",\"x\":1}";
  EXPECT_FALSE(DecryptJwe(WithHeader(fixture.token, header), {KeyFor(fixture)}).ok());
}

INSTANTIATE_TEST_SUITE_P(Jose, JoseFixtureTest, ::testing::ValuesIn(kJweFixtures),
                         [](const ::testing::TestParamInfo<JweFixture>& info) {
                           std::string name =
                               std::string(info.param.alg) + "_" + std::string(info.param.enc);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name + "_" + std::to_string(info.index);
                         });

TEST(Jwe, WrongSymmetricKeyRejected) {
  const JweFixture& fixture = kJweFixtures[2];  // dir, A256GCM.
  auto key = std::make_shared<JweKey>();
  key->symmetric_key = Secret(std::string(32, 'x'));
  EXPECT_FALSE(DecryptJwe(fixture.token, {key}).ok());
}

TEST(Jwe, WrongRsaKeyRejected) {
  const JweFixture& fixture = kJweFixtures[11];  // RSA-OAEP, A256GCM.
  ASSERT_EQ(fixture.alg, "RSA-OAEP");
  auto key = std::make_shared<JweKey>();
  key->private_key.reset(EVP_RSA_gen(2048));
  auto plaintext = DecryptJwe(fixture.token, {key});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_EQ(plaintext.error().message, "the JWE could not be decrypted with the configured keys");
}

TEST(Jwe, SecondKeyTried) {
  const JweFixture& fixture = kJweFixtures[8];  // A256KW, A256GCM.
  auto wrong = std::make_shared<JweKey>();
  wrong->symmetric_key = Secret(std::string(32, 'x'));
  auto plaintext = DecryptJwe(fixture.token, {wrong, KeyFor(fixture)});
  ASSERT_TRUE(plaintext.ok()) << plaintext.error().message;
}

TEST(Jwe, KidSelectsKey) {
  const JweFixture& fixture = kJweFixtures[2];
  auto key = std::make_shared<JweKey>();
  key->symmetric_key = Secret(Base64Decode(fixture.key_base64).value());
  key->id = "other";
  std::string token = WithHeader(fixture.token, R"({"alg":"dir","enc":"A256GCM","kid":"mine"})");
  auto plaintext = DecryptJwe(token, {key});
  ASSERT_FALSE(plaintext.ok());
  EXPECT_NE(plaintext.error().message.find("no decryption key fits"), std::string::npos);
}

TEST(Jwe, UnsupportedHeadersRejected) {
  struct Case {
    std::string header;
    std::string expected;
  };
  const Case cases[] = {
      {R"({"alg":"dir","enc":"A256GCM","zip":"DEF"})", "compressed ('zip')"},
      {R"({"alg":"dir","enc":"A256GCM","crit":["exp"]})", "'crit'"},
      {R"({"alg":"RSA1_5","enc":"A256GCM"})", "'alg' 'RSA1_5' is not supported"},
      {R"({"alg":"ECDH-ES","enc":"A256GCM"})", "'alg' 'ECDH-ES' is not supported"},
      {R"({"alg":"dir","enc":"A256CTR"})", "'enc' 'A256CTR' is not supported"},
      {R"({"alg":"dir"})", "needs string 'alg' and 'enc'"},
      {R"([1])", "not a JSON object"},
  };
  const JweFixture& fixture = kJweFixtures[2];
  for (const Case& c : cases) {
    auto plaintext = DecryptJwe(WithHeader(fixture.token, c.header), {KeyFor(fixture)});
    ASSERT_FALSE(plaintext.ok()) << c.header;
    EXPECT_NE(plaintext.error().message.find(c.expected), std::string::npos)
        << c.header << ": " << plaintext.error().message;
  }
}

TEST(Jwe, MalformedTokensRejected) {
  auto key = KeyFor(kJweFixtures[2]);
  EXPECT_FALSE(DecryptJwe("a.b.c.d", {key}).ok());
  EXPECT_FALSE(DecryptJwe("a.b.c.d.e.f", {key}).ok());
  EXPECT_FALSE(DecryptJwe("!!.b.c.d.e", {key}).ok());
  EXPECT_FALSE(DecryptJwe(std::string(20000, 'a') + "....", {key}).ok());
  EXPECT_FALSE(IsCompactJwe("a.b.c"));
}

}  // namespace
}  // namespace credgate::identity
