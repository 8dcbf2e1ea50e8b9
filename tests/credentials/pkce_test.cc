#include "credentials/pkce.h"

#include <gtest/gtest.h>

#include <cstring>

namespace credgate::credentials {
namespace {

TEST(Pkce, Rfc7636AppendixBChallenge) {
  EXPECT_EQ(ComputeS256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

// Returns the 32 octets of RFC 7636 Appendix B, whose base64url form is the example verifier.
class AppendixBRandom final : public RandomSource {
 public:
  void Fill(std::span<uint8_t> out) override {
    static constexpr uint8_t kOctets[32] = {116, 24,  223, 180, 151, 153, 224, 37,  79,  250, 96,
                                            125, 216, 173, 187, 186, 22,  212, 37,  77,  105, 214,
                                            191, 240, 91,  88,  5,   88,  83,  132, 141, 121};
    ASSERT_EQ(out.size(), sizeof(kOctets));
    std::memcpy(out.data(), kOctets, sizeof(kOctets));
  }
};

TEST(Pkce, Rfc7636AppendixBVerifier) {
  AppendixBRandom random;
  PkcePair pair = GeneratePkcePair(random);
  EXPECT_TRUE(pair.code_verifier.Equals("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
  EXPECT_EQ(pair.code_challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Pkce, GeneratedVerifierIsValid) {
  OpenSslRandom random;
  Secret verifier = GenerateCodeVerifier(random);
  EXPECT_EQ(verifier.size(), 43u);
  EXPECT_TRUE(IsValidCodeVerifier(verifier.Expose()));
}

TEST(Pkce, VerifierValidation) {
  EXPECT_FALSE(IsValidCodeVerifier(std::string(42, 'a')));
  EXPECT_TRUE(IsValidCodeVerifier(std::string(43, 'a')));
  EXPECT_TRUE(IsValidCodeVerifier(std::string(128, '~')));
  EXPECT_FALSE(IsValidCodeVerifier(std::string(129, 'a')));
  EXPECT_FALSE(IsValidCodeVerifier(std::string(42, 'a') + "+"));
}

}  // namespace
}  // namespace credgate::credentials
